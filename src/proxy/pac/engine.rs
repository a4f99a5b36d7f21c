//! Running a PAC file in QuickJS: a fresh runtime per evaluation, with a memory limit, a stack
//! limit and an interrupt handler that stops the script at the deadline; the helper functions
//! of `helpers.js`, with name lookups and the machine's address supplied from Rust
//! ([`super::dns`]).
//!
//! A fresh runtime per call keeps evaluations independent (a PAC file that changes its own
//! globals cannot change the next endpoint's answer) and makes [`super::Pac`] usable from any
//! thread, since a QuickJS runtime never leaves the thread that made it.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rquickjs::allocator::{Allocator, RustAllocator};
use rquickjs::context::EvalOptions;
use rquickjs::{Array, Coerced, Context, Ctx, Function, Object, Runtime, Value};

use super::dns::{lookup, machine_address};
use super::{shorten, Inner, PacErrorKind};
use crate::proxy::in_block;

/// The helper functions every PAC file may call.
const HELPERS: &str = include_str!("helpers.js");

/// Largest JavaScript stack: deep enough for any sane PAC file, small enough for the 2 MiB
/// stacks of tokio's blocking threads.
const STACK: usize = 512 * 1024;

/// Port used for name lookups made while the file loads (the endpoint's port is not known
/// yet); `--resolve` entries are per port, and endpoints are https.
const LOAD_PORT: u16 = 443;

/// Runs the file once and checks that it defines `FindProxyForURL`.
pub(super) fn check(inner: &Arc<Inner>) -> Result<(), PacErrorKind> {
    evaluate(inner, None).map(|_| ())
}

/// Runs the file and calls `FindProxyForURL(url, host)`; the answer must be a string.
pub(super) fn call(
    inner: &Arc<Inner>,
    url: &str,
    host: &str,
    during: &str,
) -> Result<String, PacErrorKind> {
    evaluate(inner, Some((url, host, during))).map(Option::unwrap_or_default)
}

/// How many times the time limit an evaluation may take on the wall clock.
const WALL_FACTOR: u32 = 4;

/// The CPU time this thread has used, where the platform says.
#[cfg(unix)]
fn thread_cpu_time() -> Option<std::time::Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| {
        std::time::Duration::new(
            u64::try_from(ts.tv_sec).unwrap_or(0),
            u32::try_from(ts.tv_nsec).unwrap_or(0),
        )
    })
}

#[cfg(not(unix))]
fn thread_cpu_time() -> Option<std::time::Duration> {
    None
}

fn evaluate(
    inner: &Arc<Inner>,
    call: Option<(&str, &str, &str)>,
) -> Result<Option<String>, PacErrorKind> {
    let limits = inner.limits;
    // The limit counts the script's own running time (this thread's CPU time), so that a
    // machine busy with other work does not fail a correct script; the wall clock bounds what
    // does not run (name lookups, which have their own limit each) at a few times the limit.
    let deadline = Instant::now() + limits.eval_time * WALL_FACTOR;
    let cpu_deadline = thread_cpu_time().map(|start| start + limits.eval_time);
    let engine = |e: rquickjs::Error| PacErrorKind::Engine(e.to_string());
    let out_of_memory = Arc::new(AtomicBool::new(false));
    let allocator = Bounded {
        used: 0,
        limit: limits.memory,
        hit: out_of_memory.clone(),
    };
    let runtime = Runtime::new_with_alloc(allocator).map_err(engine)?;
    runtime.set_max_stack_size(STACK);
    let fired = Arc::new(AtomicBool::new(false));
    let flag = fired.clone();
    runtime.set_interrupt_handler(Some(Box::new(move || {
        let over_cpu = match (cpu_deadline, thread_cpu_time()) {
            (Some(limit), Some(now)) => now >= limit,
            // no CPU clock: the limit is counted on the wall clock
            _ => Instant::now() >= deadline - limits.eval_time * (WALL_FACTOR - 1),
        };
        let late = over_cpu || Instant::now() >= deadline;
        if late {
            flag.store(true, Ordering::Relaxed);
        }
        late
    })));
    let context = Context::full(&runtime).map_err(|e| match e {
        _ if out_of_memory.load(Ordering::Relaxed) => PacErrorKind::MemoryLimit {
            during: "starting the engine".into(),
            limit: limits.memory,
        },
        e => engine(e),
    })?;
    // name lookups use the endpoint's port, so that `--resolve HOST:PORT:ADDR` applies
    let port = call
        .and_then(|(url, _, _)| url::Url::parse(url).ok())
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(LOAD_PORT);

    context.with(|ctx| {
        let fail = |e: rquickjs::Error, during: &str| {
            failure(&ctx, e, during, &fired, &out_of_memory, inner)
        };
        install(&ctx, inner, port, deadline).map_err(|e| fail(e, "starting the engine"))?;
        ctx.eval_with_options::<Value, _>(HELPERS, options("pac-helpers.js"))
            .map_err(|e| fail(e, "the helper functions"))?;
        ctx.eval_with_options::<Value, _>(inner.script.as_str(), options(&inner.name))
            .map_err(|e| fail(e, "loading the file"))?;
        let function = find_function(&ctx).map_err(|e| fail(e, "loading the file"))?;
        let Some(function) = function else {
            return Err(PacErrorKind::NotPac(not_pac(&inner.script)));
        };
        let Some((url, host, during)) = call else {
            return Ok(None);
        };
        let answer: Value = function
            .call((url, host))
            .map_err(|e| fail(e, during))?;
        match answer.as_string() {
            Some(text) => text.to_string().map(Some).map_err(|e| fail(e, during)),
            None => Err(PacErrorKind::Garbage {
                during: during.to_string(),
                answer: show(&answer),
                why: "not a string; FindProxyForURL must return text such as \"PROXY host:port; DIRECT\""
                    .into(),
            }),
        }
    })
}

fn options(filename: &str) -> EvalOptions {
    let mut options = EvalOptions::default();
    // PAC files are sloppy-mode scripts
    options.strict = false;
    options.global = true;
    // a NUL in a file name cannot reach the engine; the error messages carry the name anyway
    options.filename = Some(filename.replace('\0', "?"));
    options
}

/// `FindProxyForURL`, or Microsoft's `FindProxyForURLEx` when only that is defined.
fn find_function<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Option<Function<'js>>> {
    let globals = ctx.globals();
    for name in ["FindProxyForURL", "FindProxyForURLEx"] {
        let value: Value = globals.get(name)?;
        if let Some(function) = value.into_function() {
            return Ok(Some(function));
        }
    }
    Ok(None)
}

fn not_pac(script: &str) -> String {
    let start: String = script.trim_start().chars().take(40).collect();
    if start.is_empty() {
        "the file is empty: a PAC file defines function FindProxyForURL(url, host)".into()
    } else {
        format!(
            "the file defines no function FindProxyForURL(url, host); is it a PAC file? it starts with {start:?}"
        )
    }
}

/// A value as an error message can show it, without running any of its code.
fn show(value: &Value) -> String {
    if value.is_undefined() {
        "undefined".into()
    } else if value.is_null() {
        "null".into()
    } else if let Some(b) = value.as_bool() {
        format!("{b} (a boolean)")
    } else if let Some(n) = value.as_number() {
        format!("{n} (a number)")
    } else if value.is_array() {
        "an array".into()
    } else if value.is_function() {
        "a function".into()
    } else {
        format!("a value of type {}", value.type_name())
    }
}

/// What an error of the engine means: the time limit, the memory limit, or the script's own
/// exception.
fn failure(
    ctx: &Ctx,
    error: rquickjs::Error,
    during: &str,
    fired: &AtomicBool,
    out_of_memory: &AtomicBool,
    inner: &Inner,
) -> PacErrorKind {
    let limits = inner.limits;
    if fired.load(Ordering::Relaxed) {
        return PacErrorKind::TimeLimit {
            during: during.into(),
            limit: limits.eval_time,
        };
    }
    // an allocation refused at the limit ends the script with an "out of memory" error, or
    // with null when even that error could not be allocated; the flag tells both apart from a
    // script's own `throw null`
    if out_of_memory.load(Ordering::Relaxed) {
        return PacErrorKind::MemoryLimit {
            during: during.into(),
            limit: limits.memory,
        };
    }
    match error {
        rquickjs::Error::Exception => {
            let thrown = ctx.catch();
            let (message, stack) = match thrown.as_exception() {
                Some(exception) => {
                    let name = exception
                        .get::<_, Coerced<String>>("name")
                        .map(|n| n.0)
                        .unwrap_or_else(|_| "Error".into());
                    let message = exception.message().unwrap_or_default();
                    (format!("{name}: {message}"), exception.stack())
                }
                None => {
                    let text = match thrown.as_string() {
                        Some(s) => s.to_string().map(|s| format!("{s:?}")),
                        None => thrown.get::<Coerced<String>>().map(|c| c.0),
                    };
                    (text.unwrap_or_else(|_| show(&thrown)), None)
                }
            };
            let frame = stack.as_deref().and_then(|s| {
                s.lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .map(str::to_string)
            });
            PacErrorKind::Script {
                during: during.into(),
                message: shorten(&message),
                frame,
                stack: stack.filter(|s| !s.trim().is_empty()),
            }
        }
        other => PacErrorKind::Engine(other.to_string()),
    }
}

/// The allocator of one evaluation: Rust's, refusing what would take the runtime past `limit`
/// bytes and recording that it did. QuickJS's own limit (`set_memory_limit`) would refuse the
/// same allocations, but without saying so: when memory is that short, the error it throws may
/// itself fail to allocate and arrive as a bare `null`.
struct Bounded {
    used: usize,
    limit: usize,
    hit: Arc<AtomicBool>,
}

impl Bounded {
    /// Whether `more` bytes fit; records the refusal when they do not.
    fn admit(&mut self, more: usize) -> bool {
        let fits = self.used.checked_add(more).is_some_and(|n| n <= self.limit);
        if !fits {
            self.hit.store(true, Ordering::Relaxed);
        }
        fits
    }
}

// SAFETY: every call is passed on to `RustAllocator`, which meets the trait's contract; this
// type only refuses some allocations (returning null, which the contract allows) and counts
// sizes with `RustAllocator::usable_size` on pointers that `RustAllocator` returned.
unsafe impl Allocator for Bounded {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        if !self.admit(size) {
            return std::ptr::null_mut();
        }
        let ptr = RustAllocator.alloc(size);
        if !ptr.is_null() {
            // SAFETY: `ptr` was just returned by `RustAllocator`
            self.used += unsafe { RustAllocator::usable_size(ptr) };
        }
        ptr
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        // RustAllocator panics on an overflowing product; refuse it here instead
        let Some(total) = count.checked_mul(size) else {
            return std::ptr::null_mut();
        };
        if !self.admit(total) {
            return std::ptr::null_mut();
        }
        let ptr = RustAllocator.calloc(count, size);
        if !ptr.is_null() {
            // SAFETY: `ptr` was just returned by `RustAllocator`
            self.used += unsafe { RustAllocator::usable_size(ptr) };
        }
        ptr
    }

    unsafe fn dealloc(&mut self, ptr: *mut u8) {
        // SAFETY: the caller passes a pointer from this allocator, so from `RustAllocator`
        unsafe {
            self.used = self.used.saturating_sub(RustAllocator::usable_size(ptr));
            RustAllocator.dealloc(ptr);
        }
    }

    unsafe fn realloc(&mut self, ptr: *mut u8, new_size: usize) -> *mut u8 {
        // SAFETY: as in dealloc; QuickJS never passes null here (it allocates instead)
        unsafe {
            let old = RustAllocator::usable_size(ptr);
            if new_size > old && !self.admit(new_size - old) {
                return std::ptr::null_mut();
            }
            let new = RustAllocator.realloc(ptr, new_size);
            if !new.is_null() {
                self.used = self.used.saturating_sub(old) + RustAllocator::usable_size(new);
            }
            new
        }
    }

    unsafe fn usable_size(ptr: *mut u8) -> usize {
        // SAFETY: as in dealloc
        unsafe { RustAllocator::usable_size(ptr) }
    }
}

/// Defines `__pacHost`, the Rust side of the helper functions.
fn install(ctx: &Ctx, inner: &Arc<Inner>, port: u16, deadline: Instant) -> rquickjs::Result<()> {
    let host = Object::new(ctx.clone())?;

    let shared = inner.clone();
    host.set(
        "resolve",
        Function::new(ctx.clone(), move |name: String, all: bool| {
            let addrs = lookup(&shared, &name, port, deadline)?;
            if all {
                let all: Vec<String> = addrs.iter().map(IpAddr::to_string).collect();
                (!all.is_empty()).then(|| all.join(";"))
            } else {
                // dnsResolve answers IPv4 only, as in browsers
                addrs.iter().find(|a| a.is_ipv4()).map(IpAddr::to_string)
            }
        })?,
    )?;

    let shared = inner.clone();
    host.set(
        "myAddress",
        Function::new(ctx.clone(), move || {
            shared
                .my_address
                .unwrap_or_else(machine_address)
                .to_string()
        })?,
    )?;

    let shared = inner.clone();
    host.set(
        "inPrefix",
        Function::new(ctx.clone(), move |name: String, net: String, bits: f64| {
            let Ok(net) = net.trim().parse::<IpAddr>() else {
                return false;
            };
            let max = if net.is_ipv4() { 32.0 } else { 128.0 };
            if !(0.0..=max).contains(&bits) || bits.fract() != 0.0 {
                return false;
            }
            lookup(&shared, &name, port, deadline)
                .unwrap_or_default()
                .into_iter()
                .any(|addr| in_block(addr, net, bits as u8))
        })?,
    )?;

    if let Some((ms, offset)) = inner.clock {
        let clock = Array::new(ctx.clone())?;
        clock.set(0, ms as f64)?;
        clock.set(1, offset)?;
        host.set("clock", clock)?;
    }
    ctx.globals().set("__pacHost", host)
}
