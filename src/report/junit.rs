//! The JUnit report: one testsuite per profile, one testcase per endpoint and route, for the
//! test views of CI systems (GitHub Actions, GitLab, Jenkins).
//!
//! A failing verdict is a `<failure>` whose message is the verdict, the curl code and the
//! evidence; a warning that `--fail-on` names fails its testcase too. The properties carry the
//! pins of the verified path, the expiry of each certificate and of the anchor it reached, and
//! the warnings, so a drifting service shows what changed in the CI view itself; a passing
//! testcase also lists its warnings in `<system-out>`. A line of `--targets` that was skipped is
//! an `<error>` testcase naming the file and line, and the testsuite's properties say whether
//! the run passed and which rules failed it: the report agrees with the exit status.
//!
//! Every string from the outside goes through [`Shown`], as in the text report: a CI view (and
//! the log that prints a failure's message) then shows a hostile name's control characters as
//! `\x1b`, never as a colour or a forged line, and nothing XML forbids reaches the document
//! (quick-junit itself drops the C0 controls and ANSI sequences, but not U+FFFE and U+FFFF).

use std::io::{self, Write};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::{RunInfo, Shown, Summary};
use crate::policy::FailOn;
use crate::probe::ProbeResult;
use crate::verdict::Verdict;

/// The cases collected so far.
pub struct Junit {
    info: RunInfo,
    suite: TestSuite,
}

impl Junit {
    /// An empty report.
    pub fn new(info: RunInfo) -> Junit {
        let suite = TestSuite::new(Shown(&info.profile).to_string());
        Junit { info, suite }
    }

    /// Adds the testcase of one result; its warnings that `fail_on` names fail it.
    pub fn result(&mut self, r: &ProbeResult, fail_on: &FailOn) {
        let failing = fail_on.failing(&r.warnings);
        let status = if r.verdict == Verdict::Ok && failing.is_empty() {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let mut description = String::new();
            if r.verdict == Verdict::Ok {
                status.set_message(format!("warnings: {}", failing.join(", ")));
                status.set_type("warning");
                description.push_str(&format!("failed by {}\n", fail_on.flag()));
            } else {
                status.set_message(format!(
                    "{} (curl {}): {}",
                    r.verdict,
                    r.curl_code,
                    Shown(&r.detail)
                ));
                status.set_type(r.verdict.code());
            }
            for s in &r.interception.evidence {
                description.push_str(&format!("evidence {}: {}\n", s.signal, Shown(&s.detail)));
            }
            description.push_str(&warning_lines(r));
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
        let passed = matches!(status, TestCaseStatus::Success { .. });
        let name = if r.route.proxy.is_some() {
            format!("{} via {}", Shown(&r.url), Shown(&r.route.via))
        } else {
            Shown(&r.url).to_string()
        };
        let mut case = TestCase::new(name, status);
        case.set_classname(Shown(&self.info.profile).to_string());
        case.set_time(Duration::from_secs_f64(r.timings_ms.total / 1000.0));
        // a passing case's warnings would otherwise be seen nowhere in a CI view
        if passed && !r.warnings.is_empty() {
            case.set_system_out(warning_lines(r));
        }
        case.add_properties(properties(r));
        self.suite.add_test_case(case);
    }

    /// Writes the XML document: the testcases, an error testcase per line of --targets
    /// skipped, and the run's outcome in the testsuite's properties.
    pub fn finish(&mut self, out: &mut impl Write, summary: &Summary) -> io::Result<()> {
        let mut suite = std::mem::replace(
            &mut self.suite,
            TestSuite::new(Shown(&self.info.profile).to_string()),
        );
        for skipped in &self.info.skipped {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(format!("line skipped: {}", Shown(&skipped.why)));
            status.set_type("skipped-line");
            status.set_description(format!(
                "{}: the line is not an endpoint, so it was not probed; a skipped line fails the run\n",
                Shown(&skipped.to_string())
            ));
            let mut case = TestCase::new(Shown(&skipped.place()).to_string(), status);
            case.set_classname(Shown(&self.info.profile).to_string());
            case.add_properties([
                Property::new("file", Shown(&skipped.file).to_string()),
                Property::new("line", skipped.line.to_string()),
            ]);
            suite.add_test_case(case);
        }
        let failures: Vec<String> = summary
            .failures()
            .iter()
            .map(|f| Shown(&f.detail).to_string())
            .collect();
        suite.add_property(Property::new("passed", summary.passed().to_string()));
        if !failures.is_empty() {
            suite.add_property(Property::new("failed_by", failures.join("; ")));
        }
        if !summary.fail_on.names().is_empty() {
            suite.add_property(Property::new("fail_on", summary.fail_on.names().join(",")));
        }
        let mut report = Report::new("pinprobe");
        report.add_test_suite(suite);
        report.serialize(&mut *out).map_err(io::Error::other)?;
        writeln!(out)
    }
}

/// `warning CODE: detail`, one line per warning.
fn warning_lines(r: &ProbeResult) -> String {
    r.warnings
        .iter()
        .map(|w| format!("warning {}: {}\n", w.warning, Shown(&w.detail)))
        .collect()
}

/// The properties of a testcase: verdict, route, pin set, the pins of the verified path, the
/// expiry of each certificate and of the anchor the path reached, and the warnings.
fn properties(r: &ProbeResult) -> Vec<Property> {
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
    // the anchor is seldom sent, so the chain's expiries miss it: it is the path's end
    let anchor = r
        .pins
        .path
        .zip(r.trust.as_ref())
        .and_then(|(store, trust)| trust.path(store))
        .and_then(|path| path.anchor.as_ref());
    if let Some(anchor) = anchor {
        properties.push(Property::new(
            format!("expires anchor {}", Shown(&anchor.subject)),
            anchor.not_after.clone(),
        ));
    }
    for w in &r.warnings {
        properties.push(Property::new(
            format!("warning {}", w.warning),
            Shown(&w.detail).to_string(),
        ));
    }
    properties
}
