//! The translation of each subcommand's arguments into the options of `pinprobe::cmd`: the
//! last place a clap type is seen.

use pinprobe::cmd;
use pinprobe::config::Network;

use super::groups::{ReachArgs, TrustArgs};
use super::subcommands::{ConvertArgs, DemoArgs, InspectArgs, PinArgs, ServeArgs, TestArgs};

/// The options `test`, `inspect` and `pin` share, from the two groups that hold them.
fn network(trust: TrustArgs, reach: ReachArgs) -> Network {
    Network {
        cacert: trust.cacert,
        os_store: trust.os_store.choice(),
        resolve: reach.resolve,
        connect_timeout: reach.connect_timeout,
        timeout: reach.timeout,
        no_http: reach.no_http,
        proxy: reach.proxy,
        noproxy: reach.noproxy,
    }
}

impl TestArgs {
    /// The library's options.
    pub fn options(self) -> cmd::test::Options {
        cmd::test::Options {
            urls: self.urls,
            profile: self.profile.profile,
            pins: self.profile.pins,
            pinset: self.profile.pinset,
            pinnedpubkey: self.pinnedpubkey,
            warn_days: self.profile.warn_days,
            pac: self.discovery.pac,
            wpad: self.discovery.wpad,
            system_proxy: self.discovery.system_proxy,
            targets: self.sweep.targets,
            shard: self.sweep.shard,
            compare_direct: self.sweep.compare_direct,
            concurrency: self.sweep.jobs.concurrency,
            quiet: self.sweep.quiet,
            format: self.report.format.format(),
            output: self.report.output,
            force: self.report.force,
            json: self.report.json,
            ndjson: self.report.ndjson,
            junit: self.report.junit,
            verbose: self.report.verbose,
            fail_on: self.report.fail_on,
            pin_format: self.report.pin_format.format(),
            geo: self.tenant.geo.map(|g| g.geo()),
            catalog: self.tenant.catalog.map(|c| c.choice()),
            onboarding: self.tenant.onboarding,
            list: self.tenant.list,
            ask_installed_agent: true,
            ..network(self.trust, self.reach).options()
        }
    }
}

impl InspectArgs {
    /// The library's options.
    pub fn options(self) -> cmd::inspect::Options {
        cmd::inspect::Options {
            target: self.target,
            file: self.file,
            network: network(self.trust, self.reach),
            profile: self.profile.profile,
            pins: self.profile.pins,
            pinset: self.profile.pinset,
            warn_days: self.profile.warn_days,
            pac: self.discovery.pac,
            wpad: self.discovery.wpad,
            system_proxy: self.discovery.system_proxy,
            format: self.format.format(),
            output: self.output,
            force: self.force,
        }
    }
}

impl PinArgs {
    /// The library's options.
    pub fn options(self) -> cmd::pin::Options {
        cmd::pin::Options {
            urls: self.urls,
            shared_set: self.shared_set,
            allow_untrusted: self.allow_untrusted,
            backup_pins: self.backup_pin,
            update: self.update,
            output: self.output,
            force: self.force,
            network: network(self.trust, self.reach),
            concurrency: self.jobs.concurrency,
        }
    }
}

impl DemoArgs {
    /// The library's options.
    pub fn options(self) -> cmd::demo::Options {
        cmd::demo::Options {
            verbose: self.verbose,
            format: self.format.format(),
        }
    }
}

impl ConvertArgs {
    /// The library's options.
    pub fn options(self) -> cmd::convert::Options {
        cmd::convert::Options {
            from: self.from.format(),
            to: self.to.format(),
            input: self.input,
            output: self.output,
            force: self.force,
            hosts: self.hosts,
        }
    }
}

impl ServeArgs {
    /// The library's options.
    pub fn options(self) -> cmd::serve::Options {
        cmd::serve::Options {
            listen: self.listen,
            max_concurrent: self.max_concurrent,
            network: network(self.trust, self.reach),
            profile: self.profile,
            pins: self.pins,
            pinset: self.pinset,
            pac: self.discovery.pac,
            wpad: self.discovery.wpad,
            system_proxy: self.discovery.system_proxy,
        }
    }
}
