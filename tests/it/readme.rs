//! The CI examples of the documentation are run: the `pinprobe` command of each workflow in
//! `docs/ci.md` and `README.md`, against a lab server with a profile for it, must exit 0 and write
//! a JUnit file that parses.

use quick_junit::Report;

use crate::support::*;

/// The `pinprobe --profile ...` command lines of the YAML blocks of a Markdown page.
fn workflow_commands(page: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut in_yaml = false;
    for line in page.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```yaml") {
            in_yaml = true;
        } else if trimmed.starts_with("```") {
            in_yaml = false;
        } else if in_yaml {
            let command = trimmed
                .trim_start_matches("- ")
                .trim_start_matches("run: ")
                .trim();
            if command.starts_with("pinprobe --profile") {
                commands.push(command.split_whitespace().map(String::from).collect());
            }
        }
    }
    commands
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ci_examples_run_as_written() {
    let ci = workflow_commands(include_str!("../../docs/ci.md"));
    assert_eq!(ci.len(), 2, "docs/ci.md: one GitHub and one GitLab example");
    let readme = workflow_commands(include_str!("../../README.md"));
    // the README shows the GitHub example of docs/ci.md, so running those runs it too
    assert_eq!(
        readme,
        ci[..1],
        "README.md: the GitHub example of docs/ci.md"
    );
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let profile = format!(
        "[pinsets.svc]\npins = [\"sha256/{}\"]\n\n[[endpoints]]\nurl = \"{}\"\npinset = \"svc\"\nexpect_status = 200\nexpect_body = \"OK\"\n",
        pin_base64(pki.inter.der()),
        url(server.port())
    );
    for command in ci {
        let probe = Probe::new();
        std::fs::create_dir_all(probe.file("x", "").with_file_name("pins")).expect("pins dir");
        probe.file("pins/services.toml", &profile);
        let out = probe
            .args(command[1..].iter().cloned())
            .cacert(&pki.root)
            .resolve(server.port())
            .run()
            .await;
        out.assert_code(0);
        let xml = std::fs::read_to_string(out.dir().join("pinprobe.xml")).expect("JUnit file");
        let report = Report::deserialize_from_str(&xml).expect("JUnit parses");
        assert_eq!(report.test_suites[0].test_cases.len(), 1, "{xml}");
    }
}
