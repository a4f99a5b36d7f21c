//! pinprobe: probes TLS endpoints, records the presented chain, checks it against pin sets and
//! two anchor sets, and names why a pinned connection fails.

pub mod catalog;
pub mod chain;
pub mod cmd;
pub mod config;
pub mod convert;
pub mod demo;
pub mod drift;
pub mod endpoint;
pub mod error;
pub mod evidence;
/// Entry points of the fuzz targets (`fuzz/`), not a stable API.
#[doc(hidden)]
pub mod fuzzing;
pub mod generate;
pub mod input;
pub mod inspect;
#[doc(hidden)]
pub mod lab;
pub mod net;
pub mod onboarding;
pub mod output;
pub mod pin_formats;
pub mod pins;
pub mod policy;
pub mod probe;
pub mod profile;
pub mod progress;
pub mod proxy;
pub mod report;
pub mod run;
pub mod serve;
pub mod targets;
pub mod verdict;
