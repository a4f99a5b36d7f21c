//! Where the OS store was read from: the header line and the JSON's `pinprobe.os_store` name
//! `SSL_CERT_FILE`, `SSL_CERT_DIR` or the platform's store, with the count of anchors and the
//! problems met, for `test` and `inspect`; `--os-store both` adds the platform's store read
//! without the variables.

use serde_json::Value;

use crate::support::*;

/// `SSL_CERT_FILE` alone (an empty `SSL_CERT_DIR` names no directory, as for OpenSSL).
fn file_store(pki: &Pki, port: u16) -> Probe {
    Probe::new()
        .os_trusts(&pki.root)
        .env("SSL_CERT_DIR", "")
        .cacert(&pki.root)
        .endpoint(port)
}

fn os_store(out: &Value) -> &Value {
    &out["pinprobe"]["os_store"]
}

fn os_store_line(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|l| l.starts_with("OS store: "))
        .unwrap_or_else(|| panic!("no OS store line in\n{stdout}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn ssl_cert_file_is_named_with_its_anchors() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let text = file_store(&pki, server.port()).run().await;
    text.assert_code(0);
    let store = text.dir().join("os-store.pem");
    assert_eq!(
        os_store_line(&text.stdout),
        format!(
            "OS store: 1 anchor from SSL_CERT_FILE {} (the platform's store not read)",
            store.display()
        )
    );
    // the second line of the header, before the first result
    assert!(
        text.stdout
            .lines()
            .nth(1)
            .unwrap_or("")
            .starts_with("OS store: "),
        "{}",
        text.stdout
    );

    let json = file_store(&pki, server.port()).json().run().await;
    json.assert_code(0);
    let doc = json.json();
    let os = os_store(&doc);
    assert_eq!(os["source"], "variables", "{os:#}");
    assert_eq!(
        os["ssl_cert_file"],
        json.dir().join("os-store.pem").display().to_string()
    );
    assert!(os.get("ssl_cert_dir").is_none(), "{os:#}");
    assert_eq!(os["anchors"], 1);
    assert_eq!(os["load_errors"], serde_json::json!([]));
    // the warning is for a keychain or a Windows store passed over, never for Linux's files
    assert!(os.get("warning").is_none(), "{os:#}");
    assert!(!json.stderr.contains("warning"), "{}", json.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn ssl_cert_dir_is_named_with_its_anchors() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let certs = tempfile::tempdir().expect("certificate directory");
    std::fs::write(certs.path().join("lab-root.pem"), pki.root.pem()).expect("write the root");
    let dir = certs.path().display().to_string();
    let run = || {
        Probe::new()
            .env_remove("SSL_CERT_FILE")
            .env("SSL_CERT_DIR", &dir)
            .cacert(&pki.root)
            .endpoint(server.port())
    };

    let text = run().run().await;
    text.assert_code(0);
    assert_eq!(
        os_store_line(&text.stdout),
        format!("OS store: 1 anchor from SSL_CERT_DIR {dir} (the platform's store not read)")
    );

    let json = run().json().run().await;
    json.assert_code(0);
    let doc = json.json();
    let os = os_store(&doc);
    assert_eq!(os["source"], "variables", "{os:#}");
    assert!(os.get("ssl_cert_file").is_none(), "{os:#}");
    assert_eq!(os["ssl_cert_dir"], serde_json::json!([dir]));
    assert_eq!(os["anchors"], 1);
    assert_eq!(
        os["description"],
        format!("SSL_CERT_DIR {dir} (the platform's store not read)")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_directory_is_a_load_error_in_the_header() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let missing = std::env::temp_dir().join("pinprobe-no-such-certificate-directory");
    let run =
        || file_store(&pki, server.port()).env("SSL_CERT_DIR", &missing.display().to_string());

    let text = run().run().await;
    let line = os_store_line(&text.stdout).to_string();
    assert!(
        line.contains("; 1 problem reading it: opening directory: ")
            && line.contains(&missing.display().to_string()),
        "{line}"
    );

    let doc = run().json().run().await.json();
    let errors = os_store(&doc)["load_errors"].as_array().cloned();
    assert_eq!(errors.map(|e| e.len()), Some(1), "{doc:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn os_store_both_adds_the_platform_store_to_the_file() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let port = server.port();
    let anchors = |doc: &Value| os_store(doc)["anchors"].as_u64().unwrap_or(u64::MAX);

    // what this machine's own store holds, the variables absent
    let bare = Probe::new()
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .cacert(&pki.root)
        .endpoint(port)
        .json()
        .run()
        .await
        .json();
    assert_eq!(os_store(&bare)["source"], "platform", "{bare:#}");

    // --os-store platform reads the same with the variables set: they are ignored
    let platform = file_store(&pki, port)
        .args(["--os-store", "platform"])
        .json()
        .run()
        .await
        .json();
    assert_eq!(os_store(&platform)["source"], "platform");
    assert_eq!(anchors(&platform), anchors(&bare), "{platform:#}");

    // both: the platform's anchors and the lab root of SSL_CERT_FILE
    let both = file_store(&pki, port)
        .args(["--os-store", "both"])
        .json()
        .run()
        .await;
    both.assert_code(0);
    let store = both.dir().join("os-store.pem").display().to_string();
    let doc = both.json();
    let os = os_store(&doc);
    assert_eq!(os["source"], "both", "{os:#}");
    assert_eq!(os["ssl_cert_file"], store.as_str());
    assert_eq!(anchors(&doc), anchors(&bare) + 1, "{os:#}");
    assert_eq!(
        os["description"],
        format!("the platform's store plus SSL_CERT_FILE {store}")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn inspect_names_the_os_store_in_its_anchors_line() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let out = Probe::new()
        .args(["inspect"])
        .os_trusts(&pki.root)
        .env("SSL_CERT_DIR", "")
        .cacert(&pki.root)
        .endpoint(server.port())
        .run()
        .await;
    out.assert_code(0);
    let store = out.dir().join("os-store.pem");
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("  anchors    "))
        .unwrap_or_default();
    assert!(
        line.ends_with(&format!(
            ", os 1 anchor from SSL_CERT_FILE {} (the platform's store not read)",
            store.display()
        )),
        "{line}"
    );
}
