//! Running a PAC file in QuickJS: a runtime with a memory limit, a stack limit and an interrupt
//! handler that stops the script at its deadline; the helper functions of `helpers.js`, with
//! name lookups and the machine's address supplied from Rust ([`super::dns`]).
//!
//! An [`Engine`] belongs to one thread of the pool ([`super::pool`]), since a QuickJS runtime
//! never leaves the thread that made it. It loads the file once (the helpers, then the file's
//! own top-level code) and keeps that context for every later call of `FindProxyForURL`, as
//! browsers keep one context per PAC file: what a call leaves in the globals, the next call of
//! the same engine sees. A call that hits the time or the memory limit may have stopped halfway
//! through changing them, and may have left the heap full: its context is thrown away, and the
//! next call loads the file again.
//!
//! Each runtime compiles the file itself. QuickJS bytecode could be made once and read by every
//! runtime, but rquickjs writes and reads it only for modules, and a PAC file is a sloppy-mode
//! script whose top-level declarations must become globals. Loading costs about 1.5 ms (a
//! runtime, the helpers, a thread), and about 0.7 ms more for a file of 22 KB: once per thread.

use std::cell::Cell;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rquickjs::allocator::{Allocator, RustAllocator};
use rquickjs::context::EvalOptions;
use rquickjs::{Array, Coerced, Context, Ctx, Function, Object, Runtime, Value};

use super::dns::{lookup, machine_address};
use super::{shorten, Inner, Limits, PacErrorKind};
use crate::proxy::in_block;

/// The helper functions every PAC file may call.
const HELPERS: &str = include_str!("helpers.js");

/// Largest JavaScript stack: deep enough for any sane PAC file, well within the stacks of the
/// pool's threads ([`super::pool`]).
const STACK: usize = 512 * 1024;

/// Port used for name lookups made while the file loads (the endpoint's port is not known
/// yet); `--resolve` entries are per port, and endpoints are https.
const LOAD_PORT: u16 = 443;

/// How many times the time limit an evaluation may take on the wall clock.
const WALL_FACTOR: u32 = 4;

/// The CPU time this thread has used, where the platform says.
#[cfg(unix)]
fn thread_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| {
        Duration::new(
            u64::try_from(ts.tv_sec).unwrap_or(0),
            u32::try_from(ts.tv_nsec).unwrap_or(0),
        )
    })
}

#[cfg(not(unix))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

/// The PAC file as one thread of the pool runs it: loaded on first use, then kept.
pub(super) struct Engine {
    inner: Arc<Inner>,
    loaded: Option<Loaded>,
}

/// A runtime with the helpers and the file loaded.
struct Loaded {
    context: Context,
    runtime: Runtime,
    /// what the Rust side of the helpers needs to know of the current evaluation
    current: Rc<Cell<Current>>,
    /// set by the interrupt handler when it stopped the script
    fired: Arc<AtomicBool>,
    /// set by the allocator when it refused an allocation at the memory limit
    out_of_memory: Arc<AtomicBool>,
}

/// The evaluation under way: the port of name lookups (the endpoint's, so that
/// `--resolve HOST:PORT:ADDR` applies) and the deadline they may not pass.
#[derive(Clone, Copy)]
struct Current {
    port: u16,
    deadline: Instant,
}

impl Engine {
    /// An engine for the file of `inner`; nothing is loaded until it is used.
    pub(super) fn new(inner: Arc<Inner>) -> Engine {
        Engine {
            inner,
            loaded: None,
        }
    }

    /// Loads the file, if this engine has not yet, and checks that it defines
    /// `FindProxyForURL`.
    pub(super) fn check(&mut self) -> Result<(), PacErrorKind> {
        load(&self.inner, &mut self.loaded).map(|_| ())
    }

    /// Calls `FindProxyForURL(url, host)`; the answer must be a string. `during` names the call
    /// in errors.
    pub(super) fn call(
        &mut self,
        url: &str,
        host: &str,
        during: &str,
    ) -> Result<String, PacErrorKind> {
        let limits = self.inner.limits;
        let loaded = load(&self.inner, &mut self.loaded)?;
        let port = url::Url::parse(url)
            .ok()
            .and_then(|u| u.port_or_known_default())
            .unwrap_or(LOAD_PORT);
        loaded.arm(limits, port);
        let answer = loaded.context.with(|ctx| {
            let fail = |e| loaded.failure(&ctx, e, during, limits);
            let Some(function) = find_function(&ctx).map_err(fail)? else {
                return Err(PacErrorKind::NotPac(not_pac(&self.inner.script)));
            };
            let answer: Value = function.call((url, host)).map_err(fail)?;
            match answer.as_string() {
                Some(text) => text.to_string().map_err(fail),
                None => Err(PacErrorKind::Garbage {
                    during: during.to_string(),
                    answer: show(&answer),
                    why: "not a string; FindProxyForURL must return text such as \"PROXY host:port; DIRECT\""
                        .into(),
                }),
            }
        });
        if let Err(
            PacErrorKind::TimeLimit { .. }
            | PacErrorKind::MemoryLimit { .. }
            | PacErrorKind::Engine(_),
        ) = &answer
        {
            self.loaded = None;
        }
        answer
    }
}

/// The loaded runtime in `slot`, loading the file first when there is none.
fn load<'a>(inner: &Arc<Inner>, slot: &'a mut Option<Loaded>) -> Result<&'a Loaded, PacErrorKind> {
    let loaded = match slot.take() {
        Some(loaded) => loaded,
        None => Loaded::new(inner)?,
    };
    Ok(slot.insert(loaded))
}

impl Loaded {
    /// A runtime within the limits, with the helpers and the file run in it; the file must
    /// define `FindProxyForURL`.
    fn new(inner: &Arc<Inner>) -> Result<Loaded, PacErrorKind> {
        let limits = inner.limits;
        let engine = |e: rquickjs::Error| PacErrorKind::Engine(e.to_string());
        let out_of_memory = Arc::new(AtomicBool::new(false));
        let allocator = Bounded {
            used: 0,
            limit: limits.memory,
            hit: out_of_memory.clone(),
        };
        let runtime = Runtime::new_with_alloc(allocator).map_err(engine)?;
        runtime.set_max_stack_size(STACK);
        let context = Context::full(&runtime).map_err(|e| match e {
            _ if out_of_memory.load(Ordering::Relaxed) => PacErrorKind::MemoryLimit {
                during: "starting the engine".into(),
                limit: limits.memory,
            },
            e => engine(e),
        })?;
        let loaded = Loaded {
            context,
            runtime,
            current: Rc::new(Cell::new(Current {
                port: LOAD_PORT,
                deadline: Instant::now(),
            })),
            fired: Arc::new(AtomicBool::new(false)),
            out_of_memory,
        };
        loaded.arm(limits, LOAD_PORT);
        inner.loads.fetch_add(1, Ordering::Relaxed);
        loaded.context.with(|ctx| {
            let fail = |e, during: &str| loaded.failure(&ctx, e, during, limits);
            install(&ctx, inner, loaded.current.clone())
                .map_err(|e| fail(e, "starting the engine"))?;
            ctx.eval_with_options::<Value, _>(HELPERS, options("pac-helpers.js"))
                .map_err(|e| fail(e, "the helper functions"))?;
            ctx.eval_with_options::<Value, _>(inner.script.as_str(), options(&inner.name))
                .map_err(|e| fail(e, "loading the file"))?;
            match find_function(&ctx).map_err(|e| fail(e, "loading the file"))? {
                Some(_) => Ok(()),
                None => Err(PacErrorKind::NotPac(not_pac(&inner.script))),
            }
        })?;
        Ok(loaded)
    }

    /// Starts the clocks of one evaluation (loading the file, or one call): the limit counts
    /// the script's own running time (this thread's CPU time), so that a machine busy with
    /// other work does not fail a correct script; the wall clock bounds what does not run
    /// (name lookups, which have their own limit each) at a few times the limit.
    fn arm(&self, limits: Limits, port: u16) {
        let deadline = Instant::now() + limits.eval_time * WALL_FACTOR;
        let cpu_deadline = thread_cpu_time().map(|start| start + limits.eval_time);
        self.current.set(Current { port, deadline });
        self.fired.store(false, Ordering::Relaxed);
        self.out_of_memory.store(false, Ordering::Relaxed);
        let fired = self.fired.clone();
        self.runtime.set_interrupt_handler(Some(Box::new(move || {
            let over_cpu = match (cpu_deadline, thread_cpu_time()) {
                (Some(limit), Some(now)) => now >= limit,
                // no CPU clock: the limit is counted on the wall clock
                _ => Instant::now() >= deadline - limits.eval_time * (WALL_FACTOR - 1),
            };
            let late = over_cpu || Instant::now() >= deadline;
            if late {
                fired.store(true, Ordering::Relaxed);
            }
            late
        })));
    }

    /// What an error of the engine means: the time limit, the memory limit, or the script's
    /// own exception.
    fn failure(
        &self,
        ctx: &Ctx,
        error: rquickjs::Error,
        during: &str,
        limits: Limits,
    ) -> PacErrorKind {
        failure(ctx, error, during, &self.fired, &self.out_of_memory, limits)
    }
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
    limits: Limits,
) -> PacErrorKind {
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

/// Defines `__pacHost`, the Rust side of the helper functions; name lookups read the port and
/// deadline of the evaluation under way from `current`.
fn install(ctx: &Ctx, inner: &Arc<Inner>, current: Rc<Cell<Current>>) -> rquickjs::Result<()> {
    let host = Object::new(ctx.clone())?;

    let (shared, now) = (inner.clone(), current.clone());
    host.set(
        "resolve",
        Function::new(ctx.clone(), move |name: String, all: bool| {
            let Current { port, deadline } = now.get();
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

    let (shared, now) = (inner.clone(), current);
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
            let Current { port, deadline } = now.get();
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
