//! `lifecycle`: load, save, dispatch and inspect `lifecycle_state.json`.
//!
//! Exit codes (SPEC §7.2): 0 success; 1 I/O error; 2 invalid input or usage;
//! 3 locked by another writer; 4 refused by the contract (overflow,
//! quarantine, step out of order, no cycle in progress).

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

mod adapter;
mod check;
mod trace;
use lifecycle_state::codec::{self, MAX_RECORD_BYTES};
use lifecycle_state::persist::LoadOutcome;
use lifecycle_state::store::Found;
use lifecycle_state::{
    Clock, ErrorClass, Event, Guards, Options, Record, Shutdown, Store, StoreError, SystemClock,
    Updated,
};

#[derive(Parser)]
#[command(
    name = "lifecycle",
    version,
    about = "Crash-safe store for lifecycle_state.json and its lifecycle machine",
    after_help = "Exit codes: 0 success, 1 I/O error, 2 invalid input or usage, \
                  3 locked by another writer, 4 refused (overflow, quarantine, step out of order)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check an implementation of the store against the SPEC: the built-in
    /// store, or any other through an adapter (PROTOCOL.md).
    ///
    /// Exit codes: 0 no violation (or none that `--baseline` does not
    /// know), 1 violations, 2 usage, 3 harness broken (the adapter, not
    /// the implementation, is at fault).
    Check(Box<check::CheckArgs>),
    /// Serve the built-in store on stdin/stdout by the adapter protocol
    /// (PROTOCOL.md), for `lifecycle check --adapter 'lifecycle adapter'`.
    Adapter,
    /// Export every conformance vector as a data file, with index.json and a
    /// README, for any test runner.
    Vectors {
        /// The directory to write (made if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the loaded record as JSON on stdout and the outcome on stderr.
    ///
    /// Always exits 0: a missing, corrupt or unreadable file yields the default record.
    Load {
        /// The state file.
        path: PathBuf,
    },
    /// Save the record read from stdin atomically and durably, under the writer lock.
    Save {
        /// The state file.
        path: PathBuf,
    },
    /// Apply one event to the lifecycle machine.
    Dispatch {
        /// The state file.
        #[arg(long = "state")]
        state: PathBuf,
        /// One of: heartbeat_refresh, idle_5min, idle_30min, sleep_eligible, request_arrived,
        /// sleep_cycle_done, hibernation_grace_expired, wake_signal, tick.
        #[arg(value_parser = parse_event)]
        event: Event,
        /// Guard for idle_30min: the daemon may sleep.
        #[arg(long)]
        sleep_eligible: bool,
        /// Guard for sleep_cycle_done: still idle after the cycle.
        #[arg(long)]
        still_idle: bool,
        /// Run in shadow mode: report a would-be shutdown instead of requesting one.
        #[arg(long)]
        shadow_run: bool,
    },
    /// Print a short human-readable summary of the state file.
    Status {
        /// The state file.
        #[arg(long = "state")]
        state: PathBuf,
    },
    /// Sleep-cycle bookkeeping (SPEC §5).
    Sleep {
        /// The state file.
        #[arg(long = "state", global = true, required = false)]
        state: Option<PathBuf>,
        /// Quarantine length in seconds after a third failure.
        #[arg(long, global = true, default_value_t = 86_400)]
        ttl_secs: u64,
        #[command(subcommand)]
        op: SleepOp,
    },
}

#[derive(Subcommand)]
enum SleepOp {
    /// Start a cycle of STEPS steps, or resume the one in progress.
    Begin { steps: u64 },
    /// Mark step STEP as done.
    StepDone { step: u64 },
    /// Record a failure of step STEP; the third one quarantines the cycle.
    StepFailed { step: u64, error: String },
    /// Finish the cycle.
    CycleDone,
    /// Lift the quarantine.
    ResetQuarantine,
}

fn parse_event(name: &str) -> Result<Event, String> {
    Event::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Event::ALL.iter().map(|e| e.as_str()).collect();
        format!(
            "unknown event {name:?}; expected one of {}",
            names.join(", ")
        )
    })
}

fn main() -> ExitCode {
    // `lifecycle trace`, hidden, takes its arguments raw (`--` and the
    // traced command's options too), so clap never sees them.
    if let Some(code) = trace::intercept(std::env::args_os()) {
        return code;
    }
    let cli = Cli::parse();
    let command = match cli.command {
        Command::Check(args) => return check::run(*args),
        Command::Adapter => {
            return match adapter::serve() {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("lifecycle adapter: {e}");
                    ExitCode::from(ErrorClass::Io.exit_code())
                }
            }
        }
        Command::Vectors { out } => {
            let vectors = lifecycle_oracle::vectors::embedded();
            return match lifecycle_oracle::vectors::export(&vectors, &out) {
                Ok(()) => {
                    println!(
                        "wrote {} vectors, index.json and README.md to {}",
                        vectors.len(),
                        out.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("lifecycle vectors: {e}");
                    ExitCode::from(ErrorClass::Io.exit_code())
                }
            };
        }
        other => other,
    };
    match run(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("lifecycle: {message}");
            ExitCode::from(code)
        }
    }
}

type Failure = (u8, String);

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Check(_) | Command::Adapter | Command::Vectors { .. } => {
            unreachable!("answered in main")
        }
        Command::Load { path } => {
            let loaded = Store::open(path).load();
            print_record(&loaded.record)?;
            eprintln!("outcome: {}", loaded.outcome);
            Ok(())
        }
        Command::Save { path } => save(path),
        Command::Dispatch {
            state,
            event,
            sleep_eligible,
            still_idle,
            shadow_run,
        } => {
            let options = Options {
                shadow_run,
                ..Options::default()
            };
            let store = Store::open(state).with_options(options);
            let guards = Guards {
                sleep_eligible,
                still_idle,
            };
            let dispatched = store.dispatch(event, guards).map_err(store_failure)?;
            report_found(&dispatched.update);
            let shutdown = match dispatched.shutdown {
                Shutdown::None => "no",
                Shutdown::Requested => "requested",
                Shutdown::WouldRequest => "would-request (shadow run)",
            };
            println!("state: {}", dispatched.to);
            println!("transitioned: {}", dispatched.transitioned());
            println!("shutdown: {shutdown}");
            println!(
                "wrapper_event_seq: {}",
                dispatched.update.record.wrapper_event_seq
            );
            Ok(())
        }
        Command::Status { state } => {
            let store = Store::open(state);
            let loaded = store.load();
            print!(
                "{}",
                status_text(&loaded.record, &loaded.outcome, &SystemClock.now())
            );
            Ok(())
        }
        Command::Sleep {
            state,
            ttl_secs,
            op,
        } => {
            let state = state.ok_or((
                ErrorClass::Invalid.exit_code(),
                "--state PATH is required".to_string(),
            ))?;
            let options = Options {
                quarantine_ttl: Duration::from_secs(ttl_secs),
                ..Options::default()
            };
            let store = Store::open(state).with_options(options);
            let updated = match op {
                SleepOp::Begin { steps } => store.begin_sleep_cycle(steps),
                SleepOp::StepDone { step } => store.step_done(step),
                SleepOp::StepFailed { step, error } => store.step_failed(step, &error),
                SleepOp::CycleDone => store.cycle_done(),
                SleepOp::ResetQuarantine => store.reset_quarantine(),
            }
            .map_err(store_failure)?;
            report_found(&updated);
            print_record(&updated.record)
        }
    }
}

fn save(path: PathBuf) -> Result<(), Failure> {
    let mut input = Vec::new();
    io::stdin()
        .take(MAX_RECORD_BYTES as u64 + 1)
        .read_to_end(&mut input)
        .map_err(|e| {
            (
                ErrorClass::Io.exit_code(),
                format!("could not read stdin: {e}"),
            )
        })?;
    let record = codec::decode(&input).map_err(|e| {
        (
            ErrorClass::Invalid.exit_code(),
            format!("invalid record on stdin: {e}"),
        )
    })?;
    let updated = Store::open(path).save(&record).map_err(store_failure)?;
    report_found(&updated);
    Ok(())
}

fn print_record(record: &Record) -> Result<(), Failure> {
    io::stdout().write_all(&codec::encode(record)).map_err(|e| {
        (
            ErrorClass::Io.exit_code(),
            format!("could not write stdout: {e}"),
        )
    })
}

/// Tells the operator on stderr when a corrupt file was moved aside.
fn report_found(updated: &Updated) {
    if let Found::Corrupt {
        reason,
        preserved_as,
    } = &updated.found
    {
        eprintln!(
            "lifecycle: the state file was corrupt ({reason}); its bytes were preserved as {}",
            preserved_as.display()
        );
    }
}

fn store_failure(e: StoreError) -> Failure {
    (e.class().exit_code(), e.to_string())
}

fn status_text(record: &Record, outcome: &LoadOutcome, now: &lifecycle_state::Timestamp) -> String {
    let mut out = String::new();
    let file = match outcome {
        LoadOutcome::Valid => "valid".to_string(),
        other => format!("{other} (showing the default record)"),
    };
    out.push_str(&format!("file:       {file}\n"));
    out.push_str(&format!(
        "state:      {} since {} ({} ago)\n",
        record.current_state,
        record.since_ts,
        human(record.since_ts.until(now))
    ));
    out.push_str(&format!("activity:   {}\n", record.last_activity_ts));
    out.push_str(&format!("event seq:  {}\n", record.wrapper_event_seq));
    out.push_str(&format!(
        "shadow run: {}\n",
        if record.shadow_run { "yes" } else { "no" }
    ));
    let progress = match &record.sleep_cycle_progress {
        None => "none".to_string(),
        Some(p) => {
            let mut s = format!(
                "last completed step {}, attempt {}",
                p.last_completed_step.unwrap_or(0),
                p.attempt.unwrap_or(1)
            );
            if let Some(started) = &p.started_at {
                s.push_str(&format!(", started {started}"));
            }
            if let Some(Some(error)) = &p.last_error {
                s.push_str(&format!(", last error: {error}"));
            }
            s
        }
    };
    out.push_str(&format!("sleep cycle: {progress}\n"));
    let quarantine = match &record.quarantine {
        None => "none".to_string(),
        Some(q) if record.is_quarantined(now) => format!(
            "until {} ({} left): {}",
            q.until_ts,
            human(now.until(&q.until_ts)),
            q.reason
        ),
        Some(q) => format!("expired at {}: {}", q.until_ts, q.reason),
    };
    out.push_str(&format!("quarantine: {quarantine}\n"));
    out
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}
