//! The fleet scripts of `docs/fleet.md` are run as written: the Jamf Pro extension attribute
//! and the Intune custom attribute, with `pinprobe` on the `PATH`, against lab servers, must
//! print the summary line as each tool expects it.

use pinprobe::lab::{Ca, KeyKind, LeafSpec};

use crate::support::*;

/// The shell scripts of a Markdown page: the `sh` blocks that start with `#!/bin/sh`.
fn scripts(page: &str) -> Vec<String> {
    let mut scripts = Vec::new();
    let mut current: Option<String> = None;
    for line in page.lines() {
        match &mut current {
            None if line.trim() == "```sh" => current = Some(String::new()),
            None => {}
            Some(script) if line.trim() == "```" => {
                if script.starts_with("#!/bin/sh\n") {
                    scripts.push(std::mem::take(script));
                }
                current = None;
            }
            Some(script) => {
                script.push_str(line);
                script.push('\n');
            }
        }
    }
    scripts
}

#[tokio::test(flavor = "multi_thread")]
async fn the_jamf_and_intune_scripts_print_the_summary_line() {
    let found = scripts(include_str!("../../docs/fleet.md"));
    assert_eq!(
        found.len(),
        2,
        "docs/fleet.md: the Jamf and the Intune script"
    );
    let (jamf, intune) = (&found[0], &found[1]);
    assert!(jamf.contains("<result>") && !intune.contains("<result>"));

    // an origin, an interception named like Zscaler's, and a port nobody listens on
    let pki = genuine_pki(&[HOST]);
    let ok = serve(&pki.leaf, http(200, "OK")).await;
    let zscaler = Ca::root("Zscaler Root CA", "Zscaler Inc.", KeyKind::EcdsaP256).expect("CA");
    let forged = zscaler.leaf(&LeafSpec::new([HOST])).expect("forged leaf");
    let intercepted = serve(&forged, http(200, "OK")).await;
    let closed = pinprobe::lab::closed_port().expect("closed port");
    let profile = format!(
        "[[endpoints]]\nurl = \"{}\"\n\n[[endpoints]]\nurl = \"{}\"\n\n[[endpoints]]\nurl = \"{}/second\"\n\n[[endpoints]]\nurl = \"https://127.0.0.1:{closed}/\"\n",
        url(ok.port()),
        url(intercepted.port()),
        url(ok.port())
    );
    let line = "ssl-interception (Zscaler) on 1/4; connect-failed on 1/4; ok 2";
    for (script, expected) in [
        (jamf, format!("<result>{line}</result>\n")),
        (intune, format!("{line}\n")),
    ] {
        let probe = Probe::new();
        let path = probe.file("attribute.sh", script);
        let out = probe
            .script(path)
            .profile(&profile)
            .cacert(&pki.root)
            .resolve(ok.port())
            .resolve(intercepted.port())
            .run()
            .await;
        // the inventory stores the line whatever the run found
        out.assert_code(0);
        assert_eq!(out.stdout, expected, "{script}\nstderr: {}", out.stderr);
    }

    // nothing probed (a profile that is not there): the first line of the message instead
    for (script, start) in [
        (
            jamf,
            "<result>pinprobe failed (exit status 2): pinprobe: error: ",
        ),
        (intune, "pinprobe failed (exit status 2): pinprobe: error: "),
    ] {
        let probe = Probe::new();
        let path = probe.file("attribute.sh", script);
        let out = probe
            .script(path)
            .args(["--profile", "missing.toml"])
            .run()
            .await;
        out.assert_code(0);
        assert!(
            out.stdout.starts_with(start) && out.stdout.lines().count() == 1,
            "{}",
            out.stdout
        );
    }

    // no pinprobe where the scripts look
    let installed = ["/usr/local/bin/pinprobe", "/opt/homebrew/bin/pinprobe"];
    if installed.iter().any(|p| std::path::Path::new(p).exists()) {
        return;
    }
    for (script, expected) in [
        (jamf, "<result>pinprobe not installed</result>\n"),
        (intune, "pinprobe not installed\n"),
    ] {
        let probe = Probe::new();
        let path = probe.file("attribute.sh", script);
        let out = probe.script_without_pinprobe(path).run().await;
        out.assert_code(0);
        assert_eq!(out.stdout, expected);
    }
}
