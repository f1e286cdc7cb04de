//! Introspection data (`query-qmp-schema`): filled in by the introspection work.
