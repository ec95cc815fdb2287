//! Stop signals that SANE backends cannot take away.
//!
//! libsane backends change process-wide signal dispositions from their
//! reader threads: the `test` backend's `reader_task` resets SIGTERM to the
//! default action when it starts, so a daemon that catches SIGTERM with a
//! handler is killed outright by the next `systemctl stop` after a scan.
//! Instead, the daemon (and `sohoa scan`/`capture`, which cancel their
//! batch on a signal) blocks SIGTERM, SIGINT and SIGUSR1 in every thread
//! (the mask is set before any thread exists and threads inherit it) and
//! takes them with `sigwait` on a thread of its own. A blocked signal stays
//! pending whatever its disposition, so a backend's `sigaction` no longer
//! matters. Child processes start with an empty mask (Rust's `Command`
//! resets it).
//!
//! Here, beside the SANE binding, because it exists for libsane and uses
//! libc directly. Never installs handlers; never unblocks the signals.

/// A signal the daemon acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Terminate,
    Interrupt,
    /// A scanner came or went (the udev rule sends it).
    DevicesChanged,
}

fn signal_set() -> libc::sigset_t {
    // SAFETY: `sigemptyset` initialises the zeroed set it is given;
    // `sigaddset` adds valid signal numbers to that initialised set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1] {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Blocks the stop signals in the calling thread and every thread it
/// starts afterwards, then calls `on_signal` from a dedicated thread for
/// each one that arrives. Call first thing in `main`, before any runtime or
/// thread is started.
pub fn take_stop_signals(on_signal: impl Fn(StopSignal) + Send + 'static) -> std::io::Result<()> {
    let set = signal_set();
    // SAFETY: `set` is an initialised signal set; the old mask is not wanted.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(std::io::Error::from_raw_os_error(rc));
    }
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || loop {
            let mut sig: libc::c_int = 0;
            // SAFETY: `set` is initialised and blocked in this thread (it
            // inherited the mask); `sig` is a valid out pointer.
            let rc = unsafe { libc::sigwait(&set, &mut sig) };
            if rc != 0 {
                continue;
            }
            on_signal(match sig {
                libc::SIGUSR1 => StopSignal::DevicesChanged,
                libc::SIGINT => StopSignal::Interrupt,
                _ => StopSignal::Terminate,
            });
        })?;
    Ok(())
}
