//! Source locations: which file, which line, and through which includes.
//!
//! QEMU ties every error to a "source info" object: a file name, a line,
//! the include directive that brought the file in, and — once the
//! expression's name is known — the definition it belongs to.  QEMU creates
//! one such object per source line, so every token on a line shares it, and
//! naming a definition names the whole line.  [`Info`] is a cheap copyable
//! handle to such a line; the definition a line belongs to lives in the
//! [`SourceMap`], so the sharing behaves exactly as in QEMU.

use std::sync::Arc;

/// Index of a file in the [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A source line: the location QEMU reports for most errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Info {
    /// The file.
    pub file: FileId,
    /// Line number, counting from 1.
    pub line: u32,
}

/// A position inside a line, for errors that QEMU reports with a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// The line.
    pub info: Info,
    /// Byte offset of the token in the (newline-normalised) file text.
    pub offset: u32,
    /// Byte offset where the token's line starts.
    pub line_start: u32,
}

impl Span {
    /// QEMU's column, counting from 1 (TAB handled as QEMU does).
    pub fn col(&self, map: &SourceMap) -> u32 {
        let text = &map.file(self.info.file).text;
        qemu_column(text, self.line_start as usize, self.offset as usize)
    }
}

/// One schema file that was read.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as QEMU spells it: the root as given, includes joined to the
    /// including file's directory.
    pub name: String,
    /// The include directive that brought this file in (None for the root).
    pub included_from: Option<Info>,
    /// The file text after universal-newline normalisation.
    pub text: Arc<String>,
}

/// The meta-type and name of the definition a source line belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defn {
    /// `enum`, `struct`, `union`, `alternate`, `command` or `event`.
    pub meta: &'static str,
    /// The definition's name.
    pub name: Arc<str>,
}

/// Every file read so far and the definitions their lines belong to.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    defns: rustc_hash::FxHashMap<Info, Defn>,
}

impl SourceMap {
    /// Registers a file and returns its id.
    pub fn add_file(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId((self.files.len() - 1) as u32)
    }

    /// The file behind an id.
    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Appends every file of `other` (and the definitions its lines belong
    /// to), and returns how far its file ids moved: `FileId(n)` of
    /// `other` is `FileId(n + shift)` here.  Range bindings
    /// ([`crate::model::merge`]) keep every release's files in one map.
    pub fn append(&mut self, other: &SourceMap) -> u32 {
        let shift = self.files.len() as u32;
        let move_info = |i: Info| Info {
            file: FileId(i.file.0 + shift),
            line: i.line,
        };
        for f in &other.files {
            self.files.push(SourceFile {
                name: f.name.clone(),
                included_from: f.included_from.map(move_info),
                text: Arc::clone(&f.text),
            });
        }
        for (info, defn) in &other.defns {
            self.defns.insert(move_info(*info), defn.clone());
        }
        shift
    }

    /// All files, in the order they were read.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// Marks `info`'s line as belonging to a definition (QEMU's `set_defn`).
    pub fn set_defn(&mut self, info: Info, meta: &'static str, name: &Arc<str>) {
        self.defns.insert(
            info,
            Defn {
                meta,
                name: Arc::clone(name),
            },
        );
    }

    /// The definition `info`'s line belongs to, if any.
    pub fn defn(&self, info: Info) -> Option<&Defn> {
        self.defns.get(&info)
    }

    /// The name of the definition `info` belongs to (QEMU's `info.defn_name`).
    pub fn defn_name(&self, info: Info) -> Option<&str> {
        self.defns.get(&info).map(|d| &*d.name)
    }

    /// The meta of the definition `info` belongs to (QEMU's `info.defn_meta`).
    pub fn defn_meta(&self, info: Info) -> Option<&'static str> {
        self.defns.get(&info).map(|d| d.meta)
    }

    /// Renders the location prefix of an error exactly as QEMU does:
    /// `In file included from` lines, the `In META 'NAME':` context line, and
    /// `FILE:LINE[:COL]`.
    pub fn location(&self, info: Info, col: Option<u32>) -> String {
        let mut out = String::new();
        let mut chain = Vec::new();
        let mut parent = self.file(info.file).included_from;
        while let Some(p) = parent {
            chain.push(p);
            parent = self.file(p.file).included_from;
        }
        for p in chain.iter().rev() {
            out.push_str("In file included from ");
            out.push_str(&self.file(p.file).name);
            out.push(':');
            out.push_str(&p.line.to_string());
            out.push_str(":\n");
        }
        let fname = &self.file(info.file).name;
        // QEMU prints the context only for a name that is not empty.
        if let Some(defn) = self.defn(info).filter(|d| !d.name.is_empty()) {
            out.push_str(&format!("{fname}: In {} '{}':\n", defn.meta, defn.name));
        }
        out.push_str(fname);
        out.push(':');
        out.push_str(&info.line.to_string());
        if let Some(col) = col {
            out.push(':');
            out.push_str(&col.to_string());
        }
        out
    }

    /// The text of one source line (without its newline), for snippets.
    pub fn line_text(&self, info: Info) -> Option<&str> {
        self.file(info.file)
            .text
            .split('\n')
            .nth(info.line.checked_sub(1)? as usize)
    }
}

/// QEMU's column of byte offset `pos` in a line starting at `line_start`:
/// every character counts one, a TAB moves to `(col + 7) % 8 + 1`.
pub fn qemu_column(text: &str, line_start: usize, pos: usize) -> u32 {
    let mut col: u32 = 1;
    for ch in text[line_start..pos].chars() {
        if ch == '\t' {
            col = (col + 7) % 8 + 1;
        } else {
            col += 1;
        }
    }
    col
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_column_wraps_like_qemu() {
        // (text before the token, expected column)
        let cases = [
            ("", 1),
            ("abc", 4),
            ("\t", 1),
            ("a\t", 2),
            ("{\t'struct':\t'Foo', ", 10),
            ("\u{e9}", 2),
        ];
        for (prefix, want) in cases {
            let text = format!("{prefix}X");
            assert_eq!(qemu_column(&text, 0, prefix.len()), want, "{prefix:?}");
        }
    }
}
