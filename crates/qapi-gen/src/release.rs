//! QEMU releases and the front-end rules in force at each.
//!
//! QEMU's `scripts/qapi` changes from release to release: doc comments
//! gain and lose sections, checks are added, error texts are reworded,
//! the test dump prints a little differently.  A schema is valid for the
//! release whose generator reads it, so the release is an input of every
//! stage.  Everything that differs between releases is decided here, in
//! [`Rules`]: the stages ask it at the few points where releases differ
//! (`rules.doc_line_limit`, `rules.legacy_doc`, ...) and otherwise share
//! one implementation.
//!
//! Each rule names the QEMU change that introduced it and the first
//! release containing it; the suites and real schemas of 7.2.0, 10.0.2
//! and 10.2.2 (and QEMU's own front end of each, run as an oracle) pin
//! the rules down at those releases, QEMU's git history in between.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::Error;

/// A QEMU version: `X.Y` or `X.Y.Z` (as in a QEMU tree's `VERSION` file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QemuVersion {
    /// Major number.
    pub major: u16,
    /// Minor number.
    pub minor: u16,
    /// Micro number; 0 when not given.  50 and above mark development
    /// trees after `major.minor`, 90 and above release candidates of the
    /// next release (QEMU's numbering).
    pub micro: u16,
}

impl QemuVersion {
    /// `major.minor.micro`.
    pub const fn new(major: u16, minor: u16, micro: u16) -> Self {
        QemuVersion {
            major,
            minor,
            micro,
        }
    }

    /// The release whose front end this version runs: `X.Y.Z` with `Z`
    /// below 50 is release `X.Y` (a stable update keeps its release's
    /// rules); a development or release-candidate tree (`Z` ≥ 50) runs the
    /// rules of the release it leads to, which is the next one QEMU made.
    pub fn release_line(self) -> Result<Release, Error> {
        let exact = Release::ALL
            .iter()
            .position(|r| (r.major, r.minor) == (self.major, self.minor));
        let idx = match (exact, self.micro >= 50) {
            (Some(i), false) => Some(i),
            (Some(i), true) => Some(i + 1).filter(|&j| j < Release::ALL.len()),
            (None, _) => None,
        };
        match idx {
            Some(i) => Ok(Release::ALL[i]),
            None => Err(Error::bare(format!(
                "QEMU {self} is not supported: qapi-gen reads the schemas of QEMU {} \
                 through {}; pass --qemu-version with one of {}",
                Release::OLDEST,
                Release::NEWEST,
                Release::list()
            ))),
        }
    }
}

impl fmt::Display for QemuVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

impl FromStr for QemuVersion {
    type Err = Error;

    /// `X.Y` or `X.Y.Z`, each a decimal number; surrounding white space (a
    /// `VERSION` file's newline) is ignored.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::bare(format!(
                "'{}' is not a QEMU version: expected X.Y or X.Y.Z, e.g. 7.2 or 10.0.2",
                s.trim()
            ))
        };
        let parts: Vec<&str> = s.trim().split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let mut nums = [0u16; 3];
        for (n, p) in nums.iter_mut().zip(&parts) {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            *n = p.parse().map_err(|_| bad())?;
        }
        Ok(QemuVersion::new(nums[0], nums[1], nums[2]))
    }
}

/// A QEMU release line (`X.Y`) that qapi-gen reproduces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release {
    /// Major number.
    pub major: u16,
    /// Minor number.
    pub minor: u16,
}

impl Release {
    const fn v(major: u16, minor: u16) -> Release {
        Release { major, minor }
    }

    /// Every supported release, oldest first.
    pub const ALL: [Release; 10] = [
        Release::v(7, 2),
        Release::v(8, 0),
        Release::v(8, 1),
        Release::v(8, 2),
        Release::v(9, 0),
        Release::v(9, 1),
        Release::v(9, 2),
        Release::v(10, 0),
        Release::v(10, 1),
        Release::v(10, 2),
    ];

    /// The oldest supported release.
    pub const OLDEST: Release = Release::ALL[0];

    /// The newest supported release: the default when a schema's tree
    /// names no release.
    pub const NEWEST: Release = Release::ALL[Release::ALL.len() - 1];

    /// `7.2, 8.0, ..., 10.2`.
    pub fn list() -> String {
        Release::ALL
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether this release is `major.minor` or newer.
    pub const fn at_least(self, major: u16, minor: u16) -> bool {
        self.major > major || (self.major == major && self.minor >= minor)
    }

    /// The rules of this release's front end.
    pub fn rules(self) -> Rules {
        Rules::of(self)
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for Release {
    type Err = Error;

    /// A version as `--qemu-version` takes it (`X.Y` or `X.Y.Z`), mapped
    /// to its release line.
    fn from_str(s: &str) -> Result<Self, Error> {
        s.parse::<QemuVersion>()?.release_line()
    }
}

/// How the release of a schema was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReleaseSource {
    /// Given explicitly (`--qemu-version`, `Builder::qemu_version`,
    /// [`crate::LoadOptions::release`]).
    Given,
    /// Read from this `VERSION` file of the QEMU tree the schema sits in.
    VersionFile(PathBuf, QemuVersion),
    /// Nothing named a release: the newest supported one.
    Newest,
}

/// Finds the `VERSION` file of the QEMU source tree that holds `schema`:
/// the nearest directory, from the schema's own upwards, that has both a
/// `VERSION` file and a `qapi` directory (every QEMU tree has both; the
/// second keeps an unrelated project's `VERSION` from being taken for
/// QEMU's).  Returns the file and the version it names.
pub fn find_version_file(schema: &Path) -> Option<Result<(PathBuf, QemuVersion), Error>> {
    let abs = if schema.is_absolute() {
        schema.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(schema)
    };
    let mut dir = abs.parent();
    while let Some(d) = dir {
        let file = d.join("VERSION");
        if file.is_file() && d.join("qapi").is_dir() {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    return Some(Err(Error::bare(format!(
                        "can't read {}: {}",
                        file.display(),
                        crate::error::strerror(&e)
                    ))))
                }
            };
            return Some(
                text.parse::<QemuVersion>()
                    .map(|v| (file.clone(), v))
                    .map_err(|e| Error::bare(format!("{}: {e}", file.display()))),
            );
        }
        dir = d.parent();
    }
    None
}

/// Chooses the release for `schema`: `given` if any, else the one its
/// QEMU tree's `VERSION` file names, else the newest.
pub fn choose(schema: &Path, given: Option<Release>) -> Result<(Release, ReleaseSource), Error> {
    if let Some(r) = given {
        return Ok((r, ReleaseSource::Given));
    }
    match find_version_file(schema) {
        Some(Ok((file, v))) => {
            let r = v
                .release_line()
                .map_err(|e| Error::bare(format!("{} names QEMU {v}: {e}", file.display())))?;
            Ok((r, ReleaseSource::VersionFile(file, v)))
        }
        Some(Err(e)) => Err(e),
        None => Ok((Release::NEWEST, ReleaseSource::Newest)),
    }
}

/// When a schema fails under a release nobody chose (`source` is not
/// [`ReleaseSource::Given`]), adds a note to `err` naming the releases
/// whose front end does not stop at this error (they accept the construct,
/// or fail later for another reason), and how to pick one.  `try_release`
/// loads the same schema under another release and returns its error, if
/// any.  QEMU's text stays first and unchanged.
pub fn explain_default(
    err: Error,
    chosen: Release,
    source: &ReleaseSource,
    try_release: impl Fn(Release) -> Option<Error>,
) -> Error {
    if *source == ReleaseSource::Given || err.location().is_none() {
        return err;
    }
    let mut accept = Vec::new();
    let mut other = Vec::new();
    for r in Release::ALL.iter().copied().filter(|&r| r != chosen) {
        match try_release(r) {
            None => accept.push(r),
            Some(e) if e.text() != err.text() => other.push(r),
            Some(_) => {}
        }
    }
    if accept.is_empty() && other.is_empty() {
        return err;
    }
    let verb = |list: &[Release], one: &str, many: &str| {
        format!(
            "{} {}",
            ranges(list),
            if list.len() == 1 { one } else { many }
        )
    };
    let mut note = String::from("note: QEMU releases differ here: ");
    if !accept.is_empty() {
        note.push_str(&verb(&accept, "accepts this schema", "accept this schema"));
    }
    if !other.is_empty() {
        if !accept.is_empty() {
            note.push_str("; ");
        }
        note.push_str(&verb(
            &other,
            "reports another error first",
            "report another error first",
        ));
    }
    let why = match source {
        ReleaseSource::VersionFile(file, v) => format!("{} says {v}", file.display()),
        _ => "the newest supported release: no QEMU tree's VERSION file is above the schema"
            .to_string(),
    };
    note.push_str(&format!(
        ".\nnote: these are QEMU {chosen}'s rules ({why}); pass --qemu-version X.Y \
         ({}) to read the schema as another release does",
        Release::list()
    ));
    err.with_note(note)
}

/// `7.2–9.2 and 10.1` for a set of releases: runs of consecutive supported
/// releases become ranges.
fn ranges(releases: &[Release]) -> String {
    let pos = |r: &Release| Release::ALL.iter().position(|a| a == r).unwrap_or(0);
    let mut runs: Vec<(Release, Release)> = Vec::new();
    for r in releases {
        match runs.last_mut() {
            Some((_, end)) if pos(end) + 1 == pos(r) => *end = *r,
            _ => runs.push((*r, *r)),
        }
    }
    let parts: Vec<String> = runs
        .iter()
        .map(|(a, b)| {
            if a == b {
                format!("QEMU {a}")
            } else {
                format!("QEMU {a}–{b}")
            }
        })
        .collect();
    match parts.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => parts.join(""),
    }
}

/// Which doc-comment parser a release runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocSyntax {
    /// QEMU 7.2–8.2: a line-by-line state machine (body, member
    /// descriptions, features, other sections) in which a tag line
    /// anywhere starts a section, text after a tagged section stays in it,
    /// and a `=` line splits a free-form block in two.
    LineModes,
    /// QEMU 9.0 on: sections start only at a paragraph, end at the first
    /// line that is not indented, and untagged text after them is a section
    /// of its own ("qapi: Rewrite doc comment parser", 9.0).
    Paragraphs,
}

/// What a release's front end does where releases differ.  Made only by
/// [`Rules::of`]; each field says which QEMU change brought it in, and in
/// which release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// The release these are the rules of.
    pub release: Release,

    // --- lexer ---
    /// The text shown in `stray '...'` runs up to a double quote too (7.2
    /// and 8.0 stop there, and crash on a stray `"` with nothing before
    /// it; "qapi: Fix crash on stray double quote character", 8.1).
    pub stray_text_takes_dquote: bool,

    // --- pragmas and expr.py ---
    /// The `documentation-exceptions` pragma exists, and members of a
    /// documented definition that lacks their description are errors
    /// (`member 'x' lacks documentation`) unless the definition is listed
    /// ("qapi: Require member documentation (with loophole)", 9.0).
    /// Before, undocumented members silently got empty descriptions.
    pub member_docs_required: bool,
    /// Type expressions are checked by the four functions of 8.1 (`...
    /// should be a type name or array`, `... should be an object or type
    /// name`); before, one `check_type` said `... cannot be an array` and
    /// `... should be a type name` ("qapi: Split up check_type()", 8.1).
    pub split_type_checks: bool,

    // --- schema.py ---
    /// The built-in `QType` enum has prefix `QTYPE` (printed by the dump)
    /// until "qapi: Smarter camel_to_upper() to reduce need for 'prefix'"
    /// (9.2).
    pub qtype_prefix: bool,
    /// A union branch may itself be a union, and clashes are checked
    /// through nested branches ("qapi: allow unions to contain further
    /// unions", 8.1).  Before: `branch 'x' cannot use union type 'Y'`.
    pub union_branches_may_be_unions: bool,
    /// A member of an implicit type defined elsewhere is described with
    /// its owner: `parameter 'a' of command 'foo'`, `base member 'b' of
    /// type 'T'` ("qapi: Improve specificity of type/member
    /// descriptions", 8.1).
    pub member_owner_described: bool,
    /// Conditional members of a command's or event's arguments need
    /// `'boxed': true` ("qapi: Require boxed for conditional command and
    /// event arguments", 8.1).
    pub conditional_args_need_boxed: bool,
    /// At most 64 distinct feature names ("qapi: expose all schema
    /// features to code", 10.0).
    pub feature_limit: bool,

    // --- doc comments ---
    /// Which doc parser runs.
    pub doc_syntax: DocSyntax,
    /// [`DocSyntax::LineModes`]: `@name:` and tags are found by regular
    /// expression on the line, and the first continuation line sets the
    /// indentation ("qapi: Rewrite parsing of doc comment section symbols
    /// and tags", "qapi: Relax doc string @name: description indentation
    /// rules", 8.1).  Before, the first word had to be the tag and
    /// continuation lines had to reach the column of the text after it.
    pub doc_tags_by_regex: bool,
    /// Doc errors about sections are located at the section, without a
    /// column, and bogus descriptions are reported at their own line after
    /// every definition was checked ("qapi: Divorce QAPIDoc from
    /// QAPIParseError", "qapi: Call QAPIDoc.check() always", 9.0).
    pub doc_errors_at_sections: bool,
    /// An `Errors:` tagged section exists, and `Returns:` is checked
    /// against the command's `returns` ("qapi: New documentation section
    /// tag \"Errors\"", 9.0).
    pub errors_section: bool,
    /// `Note:`/`Example:` (and plurals) are rejected with advice to use rST
    /// directives, and `Tag::` is not a tag ("qapi: convert \"Note\"
    /// sections to plain rST", "qapi: remove \"Example\" doc section",
    /// 9.1).
    pub notes_examples_rejected: bool,
    /// Description text keeps the indentation of its continuation lines
    /// ("qapi/parser: preserve indentation in QAPIDoc sections", 9.1); 9.0
    /// strips the first continuation line's indentation from them.
    pub doc_indentation_kept: bool,
    /// 9.0 reads the comment line right after a doc block as the start of
    /// another doc block ("qapi/parser: fix comment parsing immediately
    /// following a doc block" fixed it in 9.1).
    pub comment_after_doc_misread: bool,
    /// Sections are named by kind in the dump and messages (`Plain`,
    /// `Todo`, `text required after 'Member:'`) rather than by tag
    /// (`None`, `TODO`, `'@a:'`) ("qapi: clean up encoding of section
    /// kinds", 10.0).
    pub section_kind_names: bool,
    /// In free-form blocks a `=` heading must be the first line, and in
    /// definition blocks a paragraph may not start with `=` (9.0 until
    /// "qapi: lift restriction on using '=' in doc blocks", 10.1).
    pub heading_rules: bool,
    /// A documented command with a return type and no `Returns:` gets an
    /// empty one ("qapi: Fix undocumented return values by generating
    /// something", 10.1).
    pub returns_stub: bool,
    /// Doc lines outside literal blocks are at most 70 columns and
    /// separate sentences with two spaces ("qapi: Add documentation format
    /// validation", 10.2).
    pub doc_line_format: bool,
}

impl Rules {
    /// The rules of `release`.
    pub fn of(release: Release) -> Rules {
        let at = |major, minor| release.at_least(major, minor);
        Rules {
            release,
            stray_text_takes_dquote: at(8, 1),
            member_docs_required: at(9, 0),
            split_type_checks: at(8, 1),
            qtype_prefix: !at(9, 2),
            union_branches_may_be_unions: at(8, 1),
            member_owner_described: at(8, 1),
            conditional_args_need_boxed: at(8, 1),
            feature_limit: at(10, 0),
            doc_syntax: if at(9, 0) {
                DocSyntax::Paragraphs
            } else {
                DocSyntax::LineModes
            },
            doc_tags_by_regex: at(8, 1),
            doc_errors_at_sections: at(9, 0),
            errors_section: at(9, 0),
            notes_examples_rejected: at(9, 1),
            doc_indentation_kept: at(9, 1),
            comment_after_doc_misread: release == Release::v(9, 0),
            section_kind_names: at(10, 0),
            heading_rules: at(9, 0) && !at(10, 1),
            returns_stub: at(10, 1),
            doc_line_format: at(10, 2),
        }
    }

    /// The newest release's rules.
    pub fn newest() -> Rules {
        Rules::of(Release::NEWEST)
    }
}

impl Default for Rules {
    fn default() -> Self {
        Rules::newest()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        let cases = [
            ("7.2", Some((7, 2, 0))),
            ("7.2.0", Some((7, 2, 0))),
            ("10.0.2\n", Some((10, 0, 2))),
            (" 9.2.50 ", Some((9, 2, 50))),
            ("10", None),
            ("10.", None),
            ("1.2.3.4", None),
            ("v10.0", None),
            ("10.0-rc1", None),
            ("", None),
        ];
        for (text, want) in cases {
            let got = text
                .parse::<QemuVersion>()
                .ok()
                .map(|v| (v.major, v.minor, v.micro));
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn release_lines() {
        let cases = [
            ("7.2", Ok("7.2")),
            ("7.2.22", Ok("7.2")),
            ("10.0.13", Ok("10.0")),
            ("9.2.50", Ok("10.0")),
            ("10.0.90", Ok("10.1")),
            ("8.1.49", Ok("8.1")),
            ("7.1.0", Err(())),
            ("7.1.50", Err(())),
            ("10.2.50", Err(())),
            ("11.0", Err(())),
            ("6.2.0", Err(())),
        ];
        for (text, want) in cases {
            let got = text
                .parse::<Release>()
                .map(|r| r.to_string())
                .map_err(|_| ());
            assert_eq!(got.as_deref().map_err(|_| ()), want, "{text}");
        }
    }

    #[test]
    fn out_of_range_error_names_the_range() {
        let err = "6.2".parse::<Release>().unwrap_err();
        assert!(
            err.text().contains("QEMU 7.2 through 10.2"),
            "{}",
            err.text()
        );
    }

    #[test]
    fn release_ranges() {
        let r = |s: &str| s.parse::<Release>().unwrap();
        let cases: [(&[&str], &str); 4] = [
            (&["7.2"], "QEMU 7.2"),
            (&["7.2", "8.0", "8.1"], "QEMU 7.2–8.1"),
            (&["7.2", "8.0", "10.1"], "QEMU 7.2–8.0 and QEMU 10.1"),
            (
                &["7.2", "9.0", "10.1", "10.2"],
                "QEMU 7.2, QEMU 9.0 and QEMU 10.1–10.2",
            ),
        ];
        for (list, want) in cases {
            let rel: Vec<Release> = list.iter().map(|s| r(s)).collect();
            assert_eq!(ranges(&rel), want);
        }
    }

    #[test]
    fn at_least_orders_releases() {
        let r = Release::v(9, 1);
        assert!(r.at_least(9, 1) && r.at_least(8, 2) && !r.at_least(9, 2) && !r.at_least(10, 0));
    }
}
