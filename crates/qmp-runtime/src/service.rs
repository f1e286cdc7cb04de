//! What the server runs commands with.

use qapi_support::{CommandMeta, QmpError};
use serde_json::{Map, Value};

/// The commands a server offers.  The server itself handles the protocol
/// (framing, request shape, capabilities negotiation, `qmp_capabilities`,
/// out-of-band rules); a service only runs commands.
///
/// `execute` is called from a blocking-capable thread for in-band commands
/// and directly on the connection's task for out-of-band ones (which, as in
/// QEMU, must not block).
pub trait Service: Send + Sync + 'static {
    /// Runs `command` with its `arguments` (an empty object when the
    /// request had none).  The command has been found with
    /// [`Service::command`]; arguments are not checked yet.
    fn execute(&self, command: &str, arguments: Map<String, Value>) -> Result<Value, QmpError>;

    /// Like [`Service::execute`], but appends the reply to `out` already
    /// encoded as QEMU writes it (see [`crate::json::write_value`]).  The
    /// server calls this one; a service overrides it where it can write a
    /// reply without building a `Value` first (e.g. from bytes computed at
    /// load time).  On error, what was appended to `out` is discarded.
    fn execute_into(
        &self,
        command: &str,
        arguments: Map<String, Value>,
        out: &mut Vec<u8>,
    ) -> Result<(), QmpError> {
        let v = self.execute(command, arguments)?;
        crate::json::write_value(out, &v);
        Ok(())
    }

    /// The command's flags, or `None` when there is no such command (the
    /// client gets QEMU's `CommandNotFound`).
    fn command(&self, name: &str) -> Option<CommandMeta>;
}

impl<S: Service + ?Sized> Service for std::sync::Arc<S> {
    fn execute(&self, command: &str, arguments: Map<String, Value>) -> Result<Value, QmpError> {
        (**self).execute(command, arguments)
    }
    fn execute_into(
        &self,
        command: &str,
        arguments: Map<String, Value>,
        out: &mut Vec<u8>,
    ) -> Result<(), QmpError> {
        (**self).execute_into(command, arguments, out)
    }
    fn command(&self, name: &str) -> Option<CommandMeta> {
        (**self).command(name)
    }
}

impl<S: Service + ?Sized> Service for Box<S> {
    fn execute(&self, command: &str, arguments: Map<String, Value>) -> Result<Value, QmpError> {
        (**self).execute(command, arguments)
    }
    fn execute_into(
        &self,
        command: &str,
        arguments: Map<String, Value>,
        out: &mut Vec<u8>,
    ) -> Result<(), QmpError> {
        (**self).execute_into(command, arguments, out)
    }
    fn command(&self, name: &str) -> Option<CommandMeta> {
        (**self).command(name)
    }
}

/// A [`Service`] made of generated code: a `COMMANDS` table and a function
/// shaped like the generated `dispatch` (see [`from_dispatch`]).
pub struct DispatchService<F> {
    commands: &'static [CommandMeta],
    dispatch: F,
}

/// Builds a service from generated bindings:
///
/// ```ignore
/// let handler = MyHandler::new();
/// let service = qmp_runtime::from_dispatch(qapi_types::COMMANDS, move |cmd, args| {
///     qapi_types::dispatch(&handler, cmd, args)
/// });
/// ```
///
/// Commands are looked up in `commands`; `dispatch` checks the arguments
/// with QEMU's texts and runs the handler.
pub fn from_dispatch<F>(commands: &'static [CommandMeta], dispatch: F) -> DispatchService<F>
where
    F: Fn(&str, Map<String, Value>) -> Result<Value, QmpError> + Send + Sync + 'static,
{
    DispatchService { commands, dispatch }
}

impl<F> Service for DispatchService<F>
where
    F: Fn(&str, Map<String, Value>) -> Result<Value, QmpError> + Send + Sync + 'static,
{
    fn execute(&self, command: &str, arguments: Map<String, Value>) -> Result<Value, QmpError> {
        (self.dispatch)(command, arguments)
    }

    fn command(&self, name: &str) -> Option<CommandMeta> {
        self.commands.iter().find(|c| c.name == name).copied()
    }
}
