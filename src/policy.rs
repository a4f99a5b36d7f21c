//! What fails a run (exit status 1): the one rule every report states.
//!
//! Every verdict other than `ok` fails the run, and so does a line of `--targets` that was not
//! an endpoint: both always, whatever the flags say, so that an endpoint that could not be
//! checked never passes as one that was. `--fail-on` only adds: it names categories of
//! warnings that fail the run too (`pin-drift`, `expires-soon`, `weak-crypto`, ... or
//! `warning` for all of them). It also takes verdict names (`interception`, any verdict code),
//! which change nothing, since verdicts fail the run already: a policy may list them to say
//! what it cares about, and an unknown name is refused rather than taken for one.
//!
//! [`crate::report::Summary`] counts what a run found under a [`FailOn`]; its `passed` and
//! `failures` are the decision, read by the exit status and by every report.

use serde::Serialize;

use crate::probe::Warning;
use crate::verdict::Verdict;

/// Every warning code a result may carry.
pub const WARNINGS: [&str; 5] = [
    "expires-soon",
    "weak-key",
    "sha1-signature",
    "pin-drift",
    "pinned-certificate-expired",
];

/// A name `--fail-on` takes for warnings, and the warning codes it covers.
struct Category {
    name: &'static str,
    /// the codes it covers; empty for every warning
    covers: &'static [&'static str],
    help: &'static str,
}

/// The warning categories, in the order `--help` lists them.
const CATEGORIES: [Category; 7] = [
    Category {
        name: "warning",
        covers: &[],
        help: "every warning: expires-soon, weak-key, sha1-signature, pin-drift, pinned-certificate-expired",
    },
    Category {
        name: "pin-drift",
        covers: &["pin-drift"],
        help: "a pin set that still matches but holds stale pins (the key rotated)",
    },
    Category {
        name: "expires-soon",
        covers: &["expires-soon"],
        help: "a certificate on the verified path expires within --warn-days",
    },
    Category {
        name: "weak-crypto",
        covers: &["weak-key", "sha1-signature"],
        help: "weak-key and sha1-signature",
    },
    Category {
        name: "weak-key",
        covers: &["weak-key"],
        help: "an RSA key under 2048 bits on the verified path",
    },
    Category {
        name: "sha1-signature",
        covers: &["sha1-signature"],
        help: "a SHA-1 or MD5 signature below the anchor",
    },
    Category {
        name: "pinned-certificate-expired",
        covers: &["pinned-certificate-expired"],
        help: "an anchor a pin set carries has expired",
    },
];

/// The verdict name `--fail-on` takes besides the verdict codes.
const INTERCEPTION: &str = "interception";

/// One name `--fail-on` takes, with a line of help: the warning categories, then
/// `interception`, then every verdict code but `ok` (`hidden`: accepted, not listed in help).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name {
    /// the name
    pub name: &'static str,
    /// what it covers
    pub help: &'static str,
    /// a verdict code: accepted, left out of the help's list
    pub hidden: bool,
}

/// Every name `--fail-on` takes.
pub fn names() -> Vec<Name> {
    let mut names: Vec<Name> = CATEGORIES
        .iter()
        .map(|c| Name {
            name: c.name,
            help: c.help,
            hidden: false,
        })
        .collect();
    names.push(Name {
        name: INTERCEPTION,
        help: "the verdict ssl-interception: it fails the run already, as every verdict other than ok does (any verdict code is accepted, and changes nothing either)",
        hidden: false,
    });
    names.extend(
        Verdict::ALL
            .into_iter()
            .filter(|v| *v != Verdict::Ok)
            .map(|v| Name {
                name: v.code(),
                help: "a verdict: fails the run already",
                hidden: true,
            }),
    );
    names
}

/// What `--fail-on` asks for: warning categories that fail the run, on top of the verdicts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailOn {
    /// the names given, each once, in the order given
    names: Vec<&'static str>,
}

impl FailOn {
    /// Reads the names given to `--fail-on`, each item a name or several separated by commas.
    /// An unknown name is refused with the list of names.
    pub fn parse<S: AsRef<str>>(given: &[S]) -> Result<FailOn, String> {
        let known = names();
        let mut chosen: Vec<&'static str> = Vec::new();
        for item in given {
            for word in item.as_ref().split(',').map(str::trim) {
                let Some(name) = known.iter().find(|n| n.name == word) else {
                    return Err(unknown(word));
                };
                if !chosen.contains(&name.name) {
                    chosen.push(name.name);
                }
            }
        }
        Ok(FailOn { names: chosen })
    }

    /// `--fail-on warning`: every warning fails the run.
    pub fn every_warning() -> FailOn {
        FailOn {
            names: vec!["warning"],
        }
    }

    /// The names given, each once.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// True when every warning fails the run (`warning` was given).
    pub fn every(&self) -> bool {
        self.names.contains(&"warning")
    }

    /// True when no warning fails the run: nothing was given, or verdict names only.
    pub fn adds_nothing(&self) -> bool {
        !self
            .names
            .iter()
            .any(|n| CATEGORIES.iter().any(|c| c.name == *n))
    }

    /// True when a warning with this code fails the run.
    pub fn fails_on(&self, code: &str) -> bool {
        self.names.iter().any(|n| {
            CATEGORIES
                .iter()
                .find(|c| c.name == *n)
                .is_some_and(|c| c.covers.is_empty() || c.covers.contains(&code))
        })
    }

    /// The codes among `warnings` that fail the run, each once, in the order of the warnings.
    pub fn failing(&self, warnings: &[Warning]) -> Vec<&'static str> {
        let mut codes: Vec<&'static str> = Vec::new();
        for w in warnings {
            if self.fails_on(w.warning) && !codes.contains(&w.warning) {
                codes.push(w.warning);
            }
        }
        codes
    }

    /// `--fail-on NAME,NAME` as given, for the reports; empty when nothing was given.
    pub fn flag(&self) -> String {
        if self.names.is_empty() {
            String::new()
        } else {
            format!("--fail-on {}", self.names.join(","))
        }
    }
}

/// The message for a name `--fail-on` does not take.
fn unknown(word: &str) -> String {
    let listed: Vec<&str> = names()
        .iter()
        .filter(|n| !n.hidden)
        .map(|n| n.name)
        .collect();
    let why = if word == Verdict::Ok.code() {
        "\"ok\" never fails a run".to_string()
    } else if word.is_empty() {
        "an empty name".to_string()
    } else {
        format!("unknown name {word:?}")
    };
    format!(
        "{why}: give {}, or a verdict code such as http-unexpected (verdicts fail the run already); several separated by commas",
        listed.join(", ")
    )
}

/// A rule that failed a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// a verdict other than `ok` (always)
    Verdict,
    /// a line of `--targets` that was not an endpoint (always)
    SkippedLine,
    /// a warning of a category `--fail-on` names
    FailOn,
}

/// One rule that failed a run: how many it caught, and the words the reports print.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// the rule
    pub rule: Rule,
    /// results (or lines of `--targets`) it caught
    pub count: usize,
    /// what it caught, e.g. `pin-mismatch on 1, dns-failed on 2` or `--fail-on pin-drift:
    /// pin-drift on 1`
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warning(code: &'static str) -> Warning {
        Warning {
            warning: code,
            detail: String::new(),
        }
    }

    #[test]
    fn names_are_read_comma_separated_and_repeatable() {
        let policy =
            FailOn::parse(&["pin-drift,weak-crypto", "pin-drift", "interception"]).unwrap();
        assert_eq!(policy.names(), ["pin-drift", "weak-crypto", "interception"]);
        assert_eq!(
            policy.flag(),
            "--fail-on pin-drift,weak-crypto,interception"
        );
        // (code, fails the run)
        for (code, fails) in [
            ("pin-drift", true),
            ("weak-key", true),
            ("sha1-signature", true),
            ("expires-soon", false),
            ("pinned-certificate-expired", false),
        ] {
            assert_eq!(policy.fails_on(code), fails, "{code}");
        }
        let warnings = [
            warning("expires-soon"),
            warning("weak-key"),
            warning("pin-drift"),
            warning("weak-key"),
        ];
        assert_eq!(policy.failing(&warnings), ["weak-key", "pin-drift"]);
    }

    #[test]
    fn warning_covers_every_warning_and_verdict_names_add_nothing() {
        let every = FailOn::parse(&["warning"]).unwrap();
        assert_eq!(every, FailOn::every_warning());
        assert!(every.every() && !every.adds_nothing());
        assert!(WARNINGS.iter().all(|w| every.fails_on(w)));
        // a warning code pinprobe may add later is a warning too
        assert!(every.fails_on("some-future-warning"));
        for verdicts in [
            &["interception"][..],
            &["http-unexpected", "ssl-interception"],
        ] {
            let policy = FailOn::parse(verdicts).unwrap();
            assert!(policy.adds_nothing(), "{verdicts:?}");
            assert!(WARNINGS.iter().all(|w| !policy.fails_on(w)), "{verdicts:?}");
        }
        assert!(FailOn::default().adds_nothing());
        assert_eq!(FailOn::default().flag(), "");
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_list() {
        for (given, why) in [
            ("drift", "unknown name \"drift\""),
            ("ok", "\"ok\" never fails a run"),
            ("pin-drift,", "an empty name"),
        ] {
            let e = FailOn::parse(&[given]).unwrap_err();
            assert!(e.starts_with(why), "{given}: {e}");
            assert!(
                e.contains("warning, pin-drift, expires-soon, weak-crypto, weak-key, sha1-signature, pinned-certificate-expired, interception"),
                "{e}"
            );
        }
    }

    #[test]
    fn every_category_covers_known_warnings_only() {
        for c in &CATEGORIES {
            assert!(c.covers.iter().all(|w| WARNINGS.contains(w)), "{}", c.name);
        }
        // a category per warning code, by its own name
        assert!(WARNINGS
            .iter()
            .all(|w| CATEGORIES.iter().any(|c| c.name == *w)));
    }
}
