use std::collections::HashMap;
use std::sync::Arc;

use rustls::pki_types::UnixTime;

use super::*;
use crate::chain::trust::{AnchorSet, Store};
use crate::evidence::Interceptors;
use crate::lab::{Behaviour, Ca, KeyKind, LabProxy, LeafSpec, ProxyBehaviour, Server};
use crate::net::resolve::Resolver;
use crate::proxy::Hop;
use crate::proxy::{PacDecision, Proxy};
use crate::verdict::Verdict;

fn context(root: &Ca) -> Context {
    Context::new(
        Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
        AnchorSet::from_certificates(Store::Public, &[root.der().clone()], "test root"),
        AnchorSet::from_certificates(Store::Os, &[], "test"),
        Vec::new(),
        Interceptors::bundled().unwrap(),
        Resolver::fixed(Vec::new()),
        Settings::default(),
    )
    .unwrap()
}

#[test]
fn a_chain_is_analysed_once_per_run() {
    let root = Ca::root("Root", "Lab", KeyKind::EcdsaP256).unwrap();
    let a = root.leaf(&LeafSpec::new(["a.test"])).unwrap();
    let b = root.leaf(&LeafSpec::new(["b.test"])).unwrap();
    let ctx = context(&root);
    let now = UnixTime::now();
    let first = ctx.analyse(&a.chain(), now);
    assert!(first.public.verified);
    assert!(Arc::ptr_eq(&first, &ctx.analyse(&a.chain(), now)));
    let other = ctx.analyse(&b.chain(), now);
    assert!(!Arc::ptr_eq(&first, &other));
    assert_eq!(other.infos[0].sans, ["b.test"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_are_tried_in_order_until_one_is_reached() {
    let root = Ca::root("Root", "Lab", KeyKind::EcdsaP256).unwrap();
    let leaf = root.leaf(&LeafSpec::new(["lab.test"])).unwrap();
    let server = Server::start(
        leaf.chain(),
        leaf.key.clone_key(),
        Behaviour::Http {
            status: 200,
            body: "OK".into(),
        },
    )
    .await
    .unwrap();
    let endpoint = Endpoint::parse("https://lab.test/ping").unwrap();
    let targets = HashMap::from([("lab.test:443".to_string(), server.addr())]);
    let working = LabProxy::start(ProxyBehaviour::Forward { targets })
        .await
        .unwrap();
    let dead = crate::lab::closed_port().unwrap();
    let hops = vec![
        Hop::Unsupported {
            entry: "SOCKS5 127.0.0.1:1080".into(),
            why: "SOCKS proxies are not supported".into(),
        },
        Hop::Proxy(Proxy::parse(&format!("127.0.0.1:{dead}")).unwrap()),
        Hop::Proxy(Proxy::parse(&working.url()).unwrap()),
        Hop::Direct,
    ];
    let route = Route::from_pac(
        hops,
        PacDecision {
            source: "test.pac".into(),
            returned: "SOCKS5 ...; PROXY dead; PROXY working; DIRECT".into(),
            ..PacDecision::default()
        },
    );
    let ctx = context(&root);
    let r = run_route(&ctx, &endpoint, route).await;
    assert_eq!(r.verdict, Verdict::Ok, "{}", r.detail);
    assert_eq!(r.route.via, working.url());
    let pac = r.route.pac.as_ref().unwrap();
    assert_eq!(pac.skipped.len(), 2, "{pac:?}");
    assert!(pac.skipped[1].why.contains("the proxy"), "{pac:?}");
    assert_eq!(
        pac.used.as_deref(),
        Some(format!("PROXY {}", working.addr()).as_str())
    );
    assert!(
        r.route.describe().contains("skipped SOCKS5"),
        "{}",
        r.route.describe()
    );
}
