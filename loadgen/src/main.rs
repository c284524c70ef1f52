//! `loadgen` command line: see `loadgen --help` and loadgen/README.md.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use loadgen::cli::{Cli, Command, Common};
use loadgen::error::Result;
use loadgen::report::{self, html, text};
use loadgen::run::RunOptions;
use loadgen::scenario::{Scenario, BUILTIN};
use loadgen::{compare, plan, procstat, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Thousands of simulated broker connections need more than the soft default.
    let _ = host::raise_nofile_limit();
    match cli.cmd {
        Command::Scenarios { name } => scenarios(name.as_deref()),
        Command::Costs {
            scenario,
            set,
            scale,
        } => costs(scenario.as_deref(), &set, scale),
        Command::Attack(a) => attack(&a),
        Command::Run(a) => exec(&a.common.clone(), |sc, opts| async move {
            let r = run::run(&sc, &opts).await?;
            print!("{}", text::render(&r));
            write_outputs(&a.common, &r, || html::render_run(&r))?;
            Ok(if r.total_errors() == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }),
        Command::Plan(a) => exec(&a.common.clone(), |sc, opts| async move {
            let po = plan::PlanOptions {
                slo_p99: a.slo_p99.0,
                error_budget: a.error_budget,
                start_scale: a.start_scale,
                step_factor: a.step_factor.max(1.01),
                max_steps: a.max_steps.max(1),
                step_duration: a.step_duration,
                vary: a.vary,
            };
            let p = plan::plan(&sc, &po, &opts).await?;
            print!("{}", plan::render_text(&p));
            write_outputs(&a.common, &p, || plan::render_html(&p))?;
            Ok(if p.best.is_some() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }),
        Command::Compare(a) => exec(&a.common.clone(), |sc, opts| async move {
            let pids: Vec<Option<u32>> = opts.server_pids.clone();
            let c = compare::compare(&sc, &a.common.targets, &pids, a.rounds, &opts).await?;
            print!("{}", compare::render_text(&c));
            write_outputs(&a.common, &c, || compare::render_html(&c))?;
            let errors: u64 = c.summary.iter().map(|t| t.errors).sum();
            Ok(if errors == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }),
    }
}

/// `loadgen costs`: the model's table, and a scenario's sizing sentence.
fn costs(scenario: Option<&str>, set: &[String], scale: f64) -> ExitCode {
    let c = &loadgen::costs::MEASURED;
    print!("{}", loadgen::costs::render_table(c, &[100, 1_000, 10_000]));
    if let Some(name) = scenario {
        match Scenario::load(name, set) {
            Ok(sc) => {
                let sc = sc.scaled(scale);
                let load = loadgen::costs::Load::of(&sc);
                println!("\n{}: {}", sc.name, plan::model_sentence(c, &load));
            }
            Err(e) => {
                eprintln!("loadgen: {e}");
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}

fn scenarios(name: Option<&str>) -> ExitCode {
    match name {
        Some(n) => match BUILTIN.iter().find(|(b, _)| *b == n) {
            Some((_, t)) => {
                print!("{t}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("loadgen: no built-in scenario {n:?}");
                ExitCode::from(2)
            }
        },
        None => {
            for (n, t) in BUILTIN {
                let desc = Scenario::from_toml(t, &[])
                    .map(|s| s.description)
                    .unwrap_or_default();
                println!("{n:<14} {desc}");
            }
            ExitCode::SUCCESS
        }
    }
}

/// `loadgen attack`: exit 0 when the server survived every attack it was
/// meant to survive, 1 otherwise.
fn attack(a: &loadgen::attack::AttackArgs) -> ExitCode {
    let Some(rt) = runtime(procstat::cores().clamp(1, 2)) else {
        return ExitCode::from(2);
    };
    block_on(&rt, async {
        let r = loadgen::attack::run(a).await?;
        print!("{}", loadgen::attack::report::render(&r));
        if let Some(p) = &a.json {
            report::write_json(p, &r)?;
        }
        Ok(if r.passed() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}

/// Runs `fut` on `rt`: its exit code, or 2 after saying why on stderr.
fn block_on(
    rt: &tokio::runtime::Runtime,
    fut: impl std::future::Future<Output = Result<ExitCode>>,
) -> ExitCode {
    match rt.block_on(fut) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::from(2)
        }
    }
}

/// A multi-threaded tokio runtime with `threads` workers; says why on stderr if
/// it cannot be built.
fn runtime(threads: usize) -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("loadgen: cannot start the runtime: {e}");
            None
        }
    }
}

/// Loads the scenario, builds the runtime and runs `f` on it.
fn exec<F, Fut>(c: &Common, f: F) -> ExitCode
where
    F: FnOnce(Scenario, RunOptions) -> Fut,
    Fut: std::future::Future<Output = Result<ExitCode>>,
{
    let sc = match Scenario::load(&c.scenario, &c.sets) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("loadgen: {e}");
            return ExitCode::from(2);
        }
    };
    let mut sc = sc.scaled(c.scale);
    if let Some(d) = c.duration {
        sc.duration = d;
    }
    let threads = c.threads.unwrap_or_else(|| procstat::cores().min(2)).max(1);
    let opts = RunOptions {
        targets: c.targets.clone(),
        server_pids: c.server_pids.iter().map(|&p| Some(p)).collect(),
        live: !c.no_live && (c.live || std::io::stderr().is_terminal()),
        worker_threads: threads,
        credentials: c.credentials(),
        unsigned_lookups: c.unsigned_lookups,
    };
    let Some(rt) = runtime(threads) else {
        return ExitCode::from(2);
    };
    block_on(&rt, f(sc, opts))
}

fn write_outputs<T: serde::Serialize>(
    c: &Common,
    value: &T,
    html: impl FnOnce() -> String,
) -> Result<()> {
    if let Some(p) = &c.json {
        report::write_json(p, value)?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = &c.report {
        std::fs::write(p, html())
            .map_err(|e| loadgen::error::Error::Report(format!("{}: {e}", p.display())))?;
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}
