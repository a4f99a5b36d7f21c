//! The README's CI examples are run: the `pinprobe` command of each workflow, against a lab
//! server with a profile for it, must exit 0 and write a JUnit file that parses.

use quick_junit::Report;

use crate::support::*;

/// The `pinprobe --profile ...` command lines of the README's YAML blocks.
fn workflow_commands() -> Vec<Vec<String>> {
    let readme = include_str!("../../README.md");
    let mut commands = Vec::new();
    let mut in_yaml = false;
    for line in readme.lines() {
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
    let commands = workflow_commands();
    assert_eq!(commands.len(), 2, "one GitHub and one GitLab example");
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let profile = format!(
        "[pinsets.svc]\npins = [\"sha256/{}\"]\n\n[[endpoints]]\nurl = \"{}\"\npinset = \"svc\"\nexpect_status = 200\nexpect_body = \"OK\"\n",
        pin_base64(pki.inter.der()),
        url(server.port())
    );
    for command in commands {
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
