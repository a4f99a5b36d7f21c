//! The one-line summary of a run, for fleet inventories: `--format summary` prints it, a Jamf
//! Pro extension attribute stores it between `<result>` and `</result>`, an Intune custom
//! attribute stores the script's output (docs/fleet.md has both scripts). The same line, with
//! the exit status, goes to standard error when no report on standard output says how the run
//! went.
//!
//! The worst verdict comes first, with the interception products it named, then the others,
//! the `ok` count, the warnings `--fail-on` names and the lines of `--targets` skipped:
//! `ssl-interception (Zscaler) on 3/14; ok 11`. The line is at most [`MAX_LINE`] characters
//! (the verdicts that do not fit are counted together) and holds no control character and no
//! `<`, `>` or `&`, so that it stays one value inside `<result>`.

use super::{plural, Shown, Summary};
use crate::policy::Rule;
use crate::verdict::Verdict;

/// Most characters of the line: an inventory column and a report's cell hold it whole.
pub const MAX_LINE: usize = 255;

/// Most interception products named per verdict; the rest are counted.
const SHOWN_VENDORS: usize = 2;

/// Most characters of a product's name.
const VENDOR_CHARS: usize = 40;

/// The line: `ssl-interception (Zscaler) on 3/14; pin-mismatch on 1/14; ok 10`.
pub fn line(s: &Summary) -> String {
    // the verdict table's order is the order of gravity, interception first
    let verdicts: Vec<(String, usize)> = s
        .verdicts
        .iter()
        .filter(|(v, _)| **v != Verdict::Ok)
        .map(|(v, n)| (verdict_part(s, *v, *n), *n))
        .collect();
    let mut tail = Vec::new();
    let mut ok = format!("ok {}", s.ok);
    // the warnings of the ok endpoints: a failed endpoint's are said by its verdict
    if s.ok_warned > 0 {
        ok.push_str(&format!(" ({} with warnings)", s.ok_warned));
    }
    tail.push(ok);
    if s.warned_failing > 0 {
        let codes: Vec<String> = s
            .failing_warnings
            .iter()
            .map(|(code, n)| format!("{code} on {n}/{}", s.total))
            .collect();
        tail.push(format!("{} (--fail-on)", codes.join(", ")));
    }
    if s.skipped > 0 {
        tail.push(format!(
            "{} line{} of --targets skipped",
            s.skipped,
            plural(s.skipped)
        ));
    }
    fit(verdicts, tail, s.total)
}

/// The line and the exit status, for standard error: `pinprobe: pin-mismatch on 1/3; ok 2;
/// exit status 1 (a verdict other than ok); reports in report.xml`.
pub fn status(s: &Summary, files: &[String]) -> String {
    let outcome = if s.passed() {
        "exit status 0".to_string()
    } else {
        let rules: Vec<String> = s
            .failures()
            .iter()
            .map(|f| match f.rule {
                Rule::Verdict => "a verdict other than ok".to_string(),
                Rule::SkippedLine => "a line of --targets skipped".to_string(),
                Rule::FailOn => s.fail_on.flag(),
            })
            .collect();
        format!("exit status 1 ({})", rules.join(", "))
    };
    let mut text = format!("pinprobe: {}; {outcome}", line(s));
    if !files.is_empty() {
        let files: Vec<String> = files.iter().map(|f| Shown(f).to_string()).collect();
        text.push_str(&format!("; reports in {}", files.join(", ")));
    }
    text
}

/// `ssl-interception (Zscaler, Netskope and 1 more) on 3/14`.
fn verdict_part(s: &Summary, verdict: Verdict, n: usize) -> String {
    let vendors: Vec<String> = s
        .vendors
        .get(&verdict)
        .into_iter()
        .flatten()
        .map(|v| escape(&super::truncate(v, VENDOR_CHARS)))
        .collect();
    let named = match vendors.len() {
        0 => String::new(),
        len if len <= SHOWN_VENDORS => format!(" ({})", vendors.join(", ")),
        len => format!(
            " ({} and {} more)",
            vendors[..SHOWN_VENDORS].join(", "),
            len - SHOWN_VENDORS
        ),
    };
    format!("{verdict}{named} on {n}/{}", s.total)
}

/// The parts joined with `; `, within [`MAX_LINE`]: the tail always, the verdicts from the
/// worst on while they fit, the others counted as `other verdicts on N/TOTAL`.
fn fit(verdicts: Vec<(String, usize)>, tail: Vec<String>, total: usize) -> String {
    let join = |parts: &[String]| parts.join("; ");
    let all: Vec<String> = verdicts
        .iter()
        .map(|(part, _)| part.clone())
        .chain(tail.iter().cloned())
        .collect();
    let whole = join(&all);
    if whole.chars().count() <= MAX_LINE {
        return whole;
    }
    for kept in (0..verdicts.len()).rev() {
        let others: usize = verdicts[kept..].iter().map(|(_, n)| n).sum();
        let parts: Vec<String> = verdicts[..kept]
            .iter()
            .map(|(part, _)| part.clone())
            .chain([format!("other verdicts on {others}/{total}")])
            .chain(tail.iter().cloned())
            .collect();
        let line = join(&parts);
        if line.chars().count() <= MAX_LINE {
            return line;
        }
    }
    // never reached with the parts above (the tail is short): cut rather than overflow
    let cut: String = whole.chars().take(MAX_LINE - 3).collect();
    format!("{cut}...")
}

/// `text` shown as the text report shows it, with `<`, `>` and `&` escaped the same way, so
/// that it cannot end or open a tag around it.
fn escape(text: &str) -> String {
    Shown(text)
        .to_string()
        .replace('<', "\\x3c")
        .replace('>', "\\x3e")
        .replace('&', "\\x26")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::FailOn;

    fn summary(verdicts: &[(Verdict, usize)]) -> Summary {
        let mut s = Summary::default();
        for (v, n) in verdicts {
            s.verdicts.insert(*v, *n);
            s.total += n;
            if *v == Verdict::Ok {
                s.ok += n;
            } else {
                s.failed += n;
            }
        }
        s
    }

    #[test]
    fn the_worst_verdict_comes_first_with_its_vendor_then_the_counts() {
        let mut s = summary(&[
            (Verdict::Ok, 10),
            (Verdict::DnsFailed, 1),
            (Verdict::PinMismatch, 1),
            (Verdict::SslInterception, 2),
        ]);
        s.vendors
            .entry(Verdict::SslInterception)
            .or_default()
            .insert("Zscaler".into());
        assert_eq!(
            line(&s),
            "ssl-interception (Zscaler) on 2/14; pin-mismatch on 1/14; dns-failed on 1/14; ok 10"
        );
        assert_eq!(line(&summary(&[(Verdict::Ok, 14)])), "ok 14");
        // a failed endpoint's warnings are not the ok endpoints'
        let mut s = summary(&[(Verdict::Ok, 1), (Verdict::HandshakeFailed, 1)]);
        s.warned = 1;
        assert_eq!(line(&s), "handshake-failed on 1/2; ok 1");
    }

    #[test]
    fn warnings_that_fail_the_run_and_skipped_lines_are_counted() {
        let mut s = summary(&[(Verdict::Ok, 2)]);
        s.warned = 2;
        s.ok_warned = 2;
        s.fail_on = FailOn::parse(&["pin-drift"]).unwrap();
        s.warned_failing = 1;
        s.failing_warnings.insert("pin-drift", 1);
        s.skipped = 2;
        assert_eq!(
            line(&s),
            "ok 2 (2 with warnings); pin-drift on 1/2 (--fail-on); 2 lines of --targets skipped"
        );
        assert_eq!(
            status(&s, &["report.xml".into()]),
            "pinprobe: ok 2 (2 with warnings); pin-drift on 1/2 (--fail-on); 2 lines of --targets skipped; exit status 1 (a line of --targets skipped, --fail-on pin-drift); reports in report.xml"
        );
    }

    #[test]
    fn the_line_is_bounded_and_escaped() {
        let mut s = summary(&Verdict::ALL.map(|v| (v, 1000)));
        let vendors = s.vendors.entry(Verdict::SslInterception).or_default();
        vendors.insert("</result><result>forged".into());
        vendors.insert(format!("Very{}Long", "y".repeat(100)));
        vendors.insert("Third\u{1b}[31m".into());
        let text = line(&s);
        assert!(text.chars().count() <= MAX_LINE, "{text}");
        assert!(text.starts_with("ssl-interception (\\x3c/result\\x3e\\x3cresult\\x3eforged, Third\\x1b[31m and 1 more) on 1000/16000; untrusted-chain on 1000/16000; "), "{text}");
        assert!(text.contains("; other verdicts on "), "{text}");
        assert!(text.ends_with("; ok 1000"), "{text}");
        assert!(!text.contains(['<', '>', '&', '\u{1b}']), "{text}");
    }
}
