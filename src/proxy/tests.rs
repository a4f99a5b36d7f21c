use base64::Engine;

use super::*;
use std::collections::HashMap;

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn proxy_urls() {
    let p = Proxy::parse("http://user:p%40ss@proxy.corp:3128").unwrap();
    assert_eq!(p.url(), "http://proxy.corp:3128");
    assert_eq!(
        p.authorization().unwrap(),
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("user:p@ss")
        )
    );
    assert!(!format!("{p:?}").contains("ss"));
    let literal = Proxy::parse("http://user:100%25%zz@proxy.corp").unwrap();
    assert_eq!(
        literal.authorization().unwrap(),
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("user:100%%zz")
        )
    );
    assert_eq!(
        Proxy::parse("10.0.0.1").unwrap().url(),
        "http://10.0.0.1:1080"
    );
    assert_eq!(
        Proxy::parse("[::1]:8080").unwrap().url(),
        "http://[::1]:8080"
    );
    for (bad, words) in [
        ("https://proxy:443", "HTTPS proxies"),
        ("socks5://proxy:1080", "SOCKS"),
        ("ftp://proxy", "not a proxy scheme"),
        ("http://proxy:3128/path", "has a path"),
        ("http://user:secret@", "not a proxy URL"),
        (
            "http://user:s%FFsecret@proxy:3128",
            "not valid percent-encoded UTF-8",
        ),
    ] {
        let e = Proxy::parse(bad).unwrap_err();
        assert!(e.contains(words), "{bad}: {e}");
        assert!(!e.contains("secret"), "{e}");
    }
}

#[test]
fn no_proxy_lists() {
    let list = NoProxy::parse("localhost, .corp.example,10.0.0.0/8 ::1,fd00::/8").unwrap();
    assert_eq!(list.matches("localhost").as_deref(), Some("localhost"));
    assert_eq!(
        list.matches("a.b.corp.example").as_deref(),
        Some("corp.example")
    );
    assert_eq!(
        list.matches("corp.example").as_deref(),
        Some("corp.example")
    );
    assert_eq!(list.matches("notcorp.example"), None);
    assert_eq!(list.matches("10.1.2.3").as_deref(), Some("10.0.0.0/8"));
    assert_eq!(list.matches("11.1.2.3"), None);
    assert_eq!(list.matches("[::1]").as_deref(), Some("::1"));
    assert_eq!(list.matches("fd12::1").as_deref(), Some("fd00::/8"));
    assert_eq!(
        NoProxy::parse("*").unwrap().matches("any.host").as_deref(),
        Some("*")
    );
    assert!(NoProxy::parse("10.0.0.0/33").is_err());
    assert!(NoProxy::parse("bad/name!").is_err());
}

#[test]
fn environment_as_curl_reads_it() {
    let c = ProxyConfig::new(
        None,
        None,
        env(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
            ("ALL_PROXY", "http://all:3"),
            ("NO_PROXY", "direct.example"),
        ]),
    )
    .unwrap();
    let r = c.route_for("cdn.example");
    assert_eq!(r.via, "http://lower:2");
    assert_eq!(r.source.as_deref(), Some("https_proxy"));
    let r = c.route_for("x.direct.example");
    assert_eq!(r.via, "direct");
    assert_eq!(r.source.as_deref(), Some("NO_PROXY entry direct.example"));

    let c = ProxyConfig::new(None, None, env(&[("ALL_PROXY", "all:3")])).unwrap();
    assert_eq!(c.route_for("h").describe(), "via http://all:3 (ALL_PROXY)");

    // the flag wins, --proxy '' turns the environment off, --noproxy replaces NO_PROXY
    let vars = [("https_proxy", "http://env:1"), ("no_proxy", "h")];
    let c = ProxyConfig::new(Some("http://flag:9"), Some("other"), env(&vars)).unwrap();
    assert_eq!(c.route_for("h").via, "http://flag:9");
    assert_eq!(c.route_for("other").via, "direct");
    let c = ProxyConfig::new(Some(""), None, env(&vars)).unwrap();
    assert_eq!(
        c.route_for("x").describe(),
        "direct (--proxy '' (environment ignored))"
    );
}

#[test]
fn bad_settings_name_their_origin() {
    let (what, msg) =
        ProxyConfig::new(None, None, env(&[("HTTPS_PROXY", "socks5://p:1")])).unwrap_err();
    assert_eq!(what, "environment variable HTTPS_PROXY");
    assert!(msg.contains("--proxy"), "{msg}");
    let (what, _) = ProxyConfig::new(Some("https://p"), None, env(&[])).unwrap_err();
    assert_eq!(what, "--proxy");
    let (what, _) = ProxyConfig::new(None, Some("10.0.0.0/99"), env(&[])).unwrap_err();
    assert_eq!(what, "--noproxy");
}

#[test]
fn redaction() {
    assert_eq!(redact("http://u:secret@p:1"), "http://***@p:1");
    assert_eq!(redact("u:secret@p:1"), "***@p:1");
    assert_eq!(redact("http://p:1"), "http://p:1");
}

#[test]
fn the_flags_give_one_way_to_the_proxy_and_each_endpoint_its_routes() {
    let both = Flags {
        proxy: Some("http://proxy.test:3128"),
        pac: Some("corp.pac"),
        ..Flags::default()
    };
    let e = Setting::from_flags(both, env(&[])).unwrap_err().to_string();
    assert!(e.contains("give one way to find the proxy"), "{e}");

    let wpad = Setting::from_flags(
        Flags {
            wpad: true,
            ..Flags::default()
        },
        env(&[]),
    )
    .unwrap();
    assert!(wpad.may_use_proxy());
    assert!(!Setting::from_flags(Flags::default(), env(&[]))
        .unwrap()
        .may_use_proxy());

    let setting = Setting::from_flags(
        Flags::default(),
        env(&[
            ("HTTPS_PROXY", "proxy.test:3128"),
            ("NO_PROXY", "direct.test"),
        ]),
    )
    .unwrap();
    let config = setting.static_config();
    let routes = config.routes_for("svc.test", true);
    let shown: Vec<String> = routes.iter().map(Route::describe).collect();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(shown[0].starts_with("direct"), "{shown:?}");
    assert!(shown[1].contains("proxy.test:3128"), "{shown:?}");
    assert_eq!(config.routes_for("a.direct.test", false).len(), 1);
    assert!(config.routes_for("a.direct.test", false)[0]
        .describe()
        .starts_with("direct"));
    assert!(config
        .describe_routes(true)
        .starts_with("each directly and via http://proxy.test:3128"));
}
