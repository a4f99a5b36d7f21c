//! The JUnit report: one testsuite per profile, one testcase per endpoint and route, for the
//! test views of CI systems (GitHub Actions, GitLab, Jenkins).
//!
//! A failing verdict is a `<failure>` whose message is the verdict, the curl code and the
//! evidence; the properties carry the pins of the verified path and the expiry of each
//! certificate, so a drifting service shows what changed in the CI view itself.
//!
//! Every string from the outside goes through [`Shown`], as in the text report: a CI view (and
//! the log that prints a failure's message) then shows a hostile name's control characters as
//! `\x1b`, never as a colour or a forged line, and nothing XML forbids reaches the document
//! (quick-junit itself drops the C0 controls and ANSI sequences, but not U+FFFE and U+FFFF).

use std::io::{self, Write};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::{RunInfo, Shown, Summary};
use crate::probe::ProbeResult;
use crate::verdict::Verdict;

/// The cases collected so far.
pub struct Junit {
    info: RunInfo,
    suite: TestSuite,
    summary: Summary,
    fail_on_warning: bool,
}

impl Junit {
    /// An empty report.
    pub fn new(info: RunInfo, fail_on_warning: bool) -> Junit {
        let suite = TestSuite::new(Shown(&info.profile).to_string());
        Junit {
            info,
            suite,
            summary: Summary::default(),
            fail_on_warning,
        }
    }

    /// Makes warnings failures.
    pub fn fail_on_warning(&mut self, yes: bool) {
        self.fail_on_warning = yes;
    }

    /// Adds the testcase of one result.
    pub fn result(&mut self, r: &ProbeResult) {
        self.summary.add(r);
        let warned = self.fail_on_warning && !r.warnings.is_empty();
        let status = if r.verdict == Verdict::Ok && !warned {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            if r.verdict == Verdict::Ok {
                let codes: Vec<&str> = r.warnings.iter().map(|w| w.warning).collect();
                status.set_message(format!("warnings: {}", codes.join(", ")));
                status.set_type("warning");
            } else {
                status.set_message(format!(
                    "{} (curl {}): {}",
                    r.verdict,
                    r.curl_code,
                    Shown(&r.detail)
                ));
                status.set_type(r.verdict.code());
            }
            let mut description = String::new();
            for s in &r.interception.evidence {
                description.push_str(&format!("evidence {}: {}\n", s.signal, Shown(&s.detail)));
            }
            for w in &r.warnings {
                description.push_str(&format!("warning {}: {}\n", w.warning, Shown(&w.detail)));
            }
            if let Some(d) = &r.drift {
                description.push_str(&format!("drift: {}\n", Shown(&d.summary)));
                for entry in &d.needed {
                    description.push_str(&format!(
                        "needed {} ({})\n",
                        entry.pin,
                        Shown(entry.label.as_deref().unwrap_or(""))
                    ));
                }
            }
            if !r.detail.is_empty() {
                description.push_str(&format!(
                    "what to do: {}\n",
                    Shown(self.info.advice.text(r.verdict))
                ));
            }
            status.set_description(description);
            status
        };
        let name = if r.route.proxy.is_some() {
            format!("{} via {}", Shown(&r.url), Shown(&r.route.via))
        } else {
            Shown(&r.url).to_string()
        };
        let mut case = TestCase::new(name, status);
        case.set_classname(Shown(&self.info.profile).to_string());
        case.set_time(Duration::from_secs_f64(r.timings_ms.total / 1000.0));
        let mut properties = vec![
            Property::new("verdict", r.verdict.code()),
            Property::new("curl_code", r.curl_code.to_string()),
            Property::new("route", Shown(&r.route.describe()).to_string()),
        ];
        if let Some(set) = &r.pins.set {
            properties.push(Property::new("pinset", Shown(set).to_string()));
        }
        for m in &r.pins.path_pins {
            properties.push(Property::new(
                format!("pin {}", Shown(&m.certificate)),
                m.pin.to_string(),
            ));
        }
        for c in r.chain.iter().filter(|c| c.parse_error.is_none()) {
            properties.push(Property::new(
                format!("expires #{} {}", c.index, Shown(&c.short_name())),
                c.not_after.clone(),
            ));
        }
        case.add_properties(properties);
        self.suite.add_test_case(case);
    }

    /// Writes the XML document.
    pub fn finish(&mut self, out: &mut impl Write) -> io::Result<Summary> {
        let mut report = Report::new("pinprobe");
        let suite = std::mem::replace(
            &mut self.suite,
            TestSuite::new(Shown(&self.info.profile).to_string()),
        );
        report.add_test_suite(suite);
        report.serialize(&mut *out).map_err(io::Error::other)?;
        writeln!(out)?;
        Ok(self.summary.clone())
    }
}
