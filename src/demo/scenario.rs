//! The demo's scenarios, as data: which Defender URL, what answers there, which pin set the
//! probe checks, and the verdict it must give.
//!
//! A new scenario (a proxy that asks for credentials, say) is one more entry here and, when it
//! needs a new kind of server, one more [`Backend`] that `demo::world` knows how to start.

use crate::verdict::Verdict;

/// The pin set of the cloud endpoints: the lab public root and its issuing CA, as the
/// `microsoft-cloud` set pins the Microsoft and DigiCert CAs.
pub const CLOUD_PINSET: &str = "demo-cloud";

/// The pin set of a service that pins its leaf key, as some clients do.
pub const LEAF_PINSET: &str = "demo-leaf-pinned";

/// What answers at a scenario's URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The genuine origin: a leaf under the lab public root's issuing CA; answers 200 "OK".
    Origin,
    /// An inspecting middlebox: forges a fresh leaf for the host with the inspection CA that
    /// the (lab) OS store trusts.
    InspectingMiddlebox,
    /// A middlebox whose CA carries the name of a known interception product; no store
    /// trusts it.
    NamedInterceptor,
    /// A middlebox that resets the TCP connection after the ClientHello.
    ResettingMiddlebox,
    /// The origin after a key rotation: a new leaf with a new key under the same issuing CA,
    /// while the pin set still pins the old leaf key.
    RotatedKey,
}

/// How the probe reaches a scenario's server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// straight to the server
    Direct,
    /// through the lab's forwarding proxy (in-process, 127.0.0.1), whose CONNECT tunnels lead
    /// to the scenario's server: with an inspecting backend, an inspecting proxy
    Proxy,
    /// through a lab proxy that answers CONNECT with 407 (Basic, Negotiate)
    AuthenticatingProxy,
}

/// One scenario of the demo.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    /// an endpoint URL of the bundled profile (`pins/mde.toml`), kept as it is
    pub url: &'static str,
    /// what answers there, for the scenario table
    pub answered_by: &'static str,
    /// how the demo world builds the server
    pub backend: Backend,
    /// how the probe reaches it
    pub via: Via,
    /// the pin set the probe checks
    pub pinset: &'static str,
    /// the verdict the probe must give
    pub expected: Verdict,
}

/// Every scenario, in the order the demo probes and prints them.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        url: "https://cdn.x.cp.wd.microsoft.com/ping",
        answered_by: "genuine origin, chain to the lab public root, answers 200 \"OK\"",
        via: Via::Direct,
        backend: Backend::Origin,
        pinset: CLOUD_PINSET,
        expected: Verdict::Ok,
    },
    Scenario {
        url: "https://eu-v20.events.data.microsoft.com/ping",
        answered_by: "genuine origin, chain to the lab public root, answers 200 \"OK\"",
        via: Via::Direct,
        backend: Backend::Origin,
        pinset: CLOUD_PINSET,
        expected: Verdict::Ok,
    },
    Scenario {
        url: "https://winatp-gw-eus.microsoft.com/test",
        answered_by: "genuine origin, chain to the lab public root, answers 200 \"OK\"",
        via: Via::Direct,
        backend: Backend::Origin,
        pinset: CLOUD_PINSET,
        expected: Verdict::Ok,
    },
    Scenario {
        url: "https://eu-cdn.x.cp.wd.microsoft.com/ping",
        answered_by: "inspecting middlebox: fresh leaf from the inspection CA in the OS store",
        via: Via::Direct,
        backend: Backend::InspectingMiddlebox,
        pinset: CLOUD_PINSET,
        expected: Verdict::SslInterception,
    },
    Scenario {
        url: "https://us-v20.events.data.microsoft.com/ping",
        answered_by: "middlebox whose CA is named like Zscaler's (in no store)",
        via: Via::Direct,
        backend: Backend::NamedInterceptor,
        pinset: CLOUD_PINSET,
        expected: Verdict::SslInterception,
    },
    Scenario {
        url: "https://winatp-gw-weu.microsoft.com/test",
        answered_by: "middlebox that resets the connection after the ClientHello",
        via: Via::Direct,
        backend: Backend::ResettingMiddlebox,
        pinset: CLOUD_PINSET,
        expected: Verdict::HandshakeFailed,
    },
    Scenario {
        url: "https://x.cp.wd.microsoft.com/api/report",
        answered_by: "origin after a key rotation; its pin set pins the old leaf key",
        via: Via::Direct,
        backend: Backend::RotatedKey,
        pinset: LEAF_PINSET,
        expected: Verdict::PinMismatch,
    },
    Scenario {
        url: "https://winatp-gw-cus.microsoft.com/test",
        answered_by: "genuine origin, reached through a forwarding proxy",
        via: Via::Proxy,
        backend: Backend::Origin,
        pinset: CLOUD_PINSET,
        expected: Verdict::Ok,
    },
    Scenario {
        url: "https://winatp-gw-neu.microsoft.com/test",
        answered_by: "inspecting proxy: re-signs with the inspection CA in the OS store",
        via: Via::Proxy,
        backend: Backend::InspectingMiddlebox,
        pinset: CLOUD_PINSET,
        expected: Verdict::SslInterception,
    },
    Scenario {
        url: "https://winatp-gw-ukw.microsoft.com/test",
        answered_by: "proxy that asks for credentials (407), which Defender does not support",
        via: Via::AuthenticatingProxy,
        backend: Backend::Origin,
        pinset: CLOUD_PINSET,
        expected: Verdict::ProxyAuthRequired,
    },
];
