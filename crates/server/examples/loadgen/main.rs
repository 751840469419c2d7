//! The load generator `bench/run` uses for the paths `wrk` cannot drive,
//! against Portico and the peer OP alike (their discovery documents name the
//! endpoints; their HTML forms are parsed, not known by heart):
//!
//! - `refresh`: `grant_type=refresh_token` with rotation. Each worker keeps
//!   its own chain: every request sends the refresh token the previous answer
//!   returned. The chain starts from a code flow of its own, before the clock
//!   starts (`--setup-connections` at once, 1 by default).
//! - `flow`: the whole authorization code + PKCE flow per iteration, with an
//!   empty cookie jar each time: /authorize → the sign-in form (password) →
//!   the consent form (accepted every time: `prompt=consent`) → /token →
//!   /userinfo. One sample is one flow.
//! - `login`: the password form POST alone (the /authorize and sign-in page
//!   GETs before it are not timed, but they run on the server too). With
//!   `--probe-url`, a second, open-loop load GETs that URL at `--probe-rate`
//!   per second meanwhile and reports its latency apart.
//! - `token`: one flow; prints the token endpoint's answer (for `wrk` rows
//!   that need a user's access token).
//! - `ready`: GETs `--issuer` (any URL) every millisecond, each time on a new
//!   connection, until it answers 200, for at most `--duration` s; prints
//!   `ready_ms`, the time from `--since-unix-ns` (when the caller started the
//!   server) to that answer. A start is measured to the millisecond, not to
//!   the 10 ms a `curl` loop in the shell would allow.
//!
//! Prints one JSON line: `requests` (samples in the measured window), `rps`,
//! `p50_ms`, `p99_ms`, `errors` (transport failures, refused passwords,
//! unexpected pages), `non_2xx` (answers with an unexpected status: 4xx/5xx,
//! or a page where a redirect was due), `consents`, and the probe's figures.
//! Run it pinned to one core (`taskset`): it uses a single-threaded runtime.
//!
//! `loadgen ready --issuer URL --since-unix-ns NS [--duration 15]`
//! `loadgen MODE --issuer URL --client-id ID --client-secret S --redirect-uri URI
//!  [--user-template 'bench{n}@bench.example' --users 8 --password PW]
//!  [--connections 64 --duration 10 --warmup 2] [--probe-url URL --probe-rate 200]`

mod flow;
mod html;

use clap::{Parser, ValueEnum};
use flow::{Browser, Failure, Op};
use serde_json::json;
use std::rc::Rc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Refresh,
    Flow,
    Login,
    Token,
    Ready,
}

/// A later option overrides an earlier one (bench/run adds its own after the defaults).
#[derive(Parser)]
#[command(args_override_self = true)]
struct Args {
    #[arg(value_enum)]
    mode: Mode,
    #[arg(long)]
    issuer: String,
    #[arg(long, required_unless_present = "since_unix_ns")]
    client_id: Option<String>,
    #[arg(long, required_unless_present = "since_unix_ns")]
    client_secret: Option<String>,
    #[arg(long, required_unless_present = "since_unix_ns")]
    redirect_uri: Option<String>,
    /// `ready` only: when the server was started (Unix time, ns; `date +%s%N`).
    #[arg(long)]
    since_unix_ns: Option<u128>,
    #[arg(long, default_value = "openid profile email offline_access")]
    scope: String,
    /// Worker `i` signs in as this with `{n}` replaced by `i % users`.
    #[arg(long, default_value = "bench{n}@bench.example")]
    user_template: String,
    #[arg(long, default_value_t = 8)]
    users: usize,
    #[arg(long, default_value = "bench password 0123456789")]
    password: String,
    /// Concurrent workers, each with its own connection.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of the same load before, not measured.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// `login` only: a URL to GET meanwhile at a fixed rate.
    #[arg(long)]
    probe_url: Option<String>,
    #[arg(long, default_value_t = 200)]
    probe_rate: u32,
    /// `refresh`: code flows run at once to start the chains (each hashes a password).
    #[arg(long, default_value_t = 1)]
    setup_connections: usize,
}

/// One worker's (or the probe's) count.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: u64,
    non_2xx: u64,
    consents: u64,
    first_failure: Option<String>,
}

impl Tally {
    fn fail(&mut self, f: Failure) {
        match &f {
            Failure::Status(..) => self.non_2xx += 1,
            Failure::Other(_) => self.errors += 1,
        }
        if self.first_failure.is_none() {
            self.first_failure = Some(f.to_string());
        }
    }

    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.errors += other.errors;
        self.non_2xx += other.non_2xx;
        self.consents += other.consents;
        if self.first_failure.is_none() {
            self.first_failure = other.first_failure;
        }
    }

    fn percentile_ms(&mut self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.sort_unstable();
        let i = ((self.latencies_us.len() as f64 * p).ceil() as usize)
            .clamp(1, self.latencies_us.len())
            - 1;
        self.latencies_us[i] as f64 / 1000.0
    }
}

/// The measured window: samples that start in it count.
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

impl Window {
    fn counts(&self, started: Instant) -> bool {
        started >= self.start
    }
}

struct Ctx {
    op: Op,
    user_template: String,
    users: usize,
    setup: tokio::sync::Semaphore,
}

impl Ctx {
    fn user(&self, worker: usize) -> String {
        self.user_template
            .replace("{n}", &(worker % self.users.max(1)).to_string())
    }
}

/// One iteration of the mode; the duration to record, when not the whole iteration's.
async fn iteration(
    mode: Mode,
    ctx: &Ctx,
    b: &Browser,
    user: &str,
    chain: &mut Option<String>,
    tally: &mut Tally,
    record: bool,
) -> Result<Option<Duration>, Failure> {
    match mode {
        Mode::Flow => {
            let (_, consents) = flow::full(b, &ctx.op, user).await?;
            if record {
                tally.consents += u64::from(consents);
            }
            Ok(None)
        }
        Mode::Login => flow::password_login(b, &ctx.op, user).await.map(Some),
        Mode::Refresh => {
            let current = chain
                .take()
                .ok_or_else(|| Failure::Other("no refresh token".into()))?;
            let answer = flow::token(
                b,
                &ctx.op,
                &[("grant_type", "refresh_token"), ("refresh_token", &current)],
            )
            .await?;
            *chain = Some(flow::field(&answer, "refresh_token")?.to_string());
            Ok(None)
        }
        Mode::Token | Mode::Ready => unreachable!("runs once"),
    }
}

/// A refresh token from a code flow of its own. The OP hashes a password for
/// it, so at most `--setup-connections` of these run at once (Portico answers
/// 503 to a sign-in that finds every hash slot busy).
async fn chain_start(ctx: &Ctx, b: &Browser, user: &str) -> Result<String, Failure> {
    let _slot = ctx
        .setup
        .acquire()
        .await
        .map_err(|e| Failure::Other(e.to_string()))?;
    let (tokens, _) = flow::full(b, &ctx.op, user).await?;
    Ok(flow::field(&tokens, "refresh_token")?.to_string())
}

async fn worker(
    mode: Mode,
    ctx: Rc<Ctx>,
    b: Browser,
    w: usize,
    mut chain: Option<String>,
    window: Window,
) -> Tally {
    let user = ctx.user(w);
    let mut tally = Tally::default();
    while Instant::now() < window.end {
        if mode == Mode::Refresh && chain.is_none() {
            // A chain broken by a failure starts again, not timed.
            match chain_start(&ctx, &b, &user).await {
                Ok(rt) => chain = Some(rt),
                Err(f) => {
                    tally.fail(f);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            }
        }
        let started = Instant::now();
        let record = window.counts(started);
        let outcome = iteration(mode, &ctx, &b, &user, &mut chain, &mut tally, record).await;
        match outcome {
            Ok(took) if record => {
                let took = took.unwrap_or_else(|| started.elapsed());
                tally.latencies_us.push(took.as_micros() as u64);
            }
            Ok(_) => {}
            Err(f) if record => tally.fail(f),
            Err(_) => {}
        }
    }
    tally
}

/// An open-loop probe: one GET every 1/rate s on a shared pool, each timed
/// from when it was due, whatever the other load does.
async fn probe(url: String, rate: u32, window: Window) -> Tally {
    let mut tally = Tally::default();
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
    {
        Ok(h) => h,
        Err(e) => {
            tally.fail(Failure::Other(format!("probe: {e}")));
            return tally;
        }
    };
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut inflight = tokio::task::JoinSet::new();
    while Instant::now() < window.end {
        tick.tick().await;
        let due = Instant::now();
        let (http, url) = (http.clone(), url.clone());
        inflight.spawn_local(async move {
            let (status, ok) = match http.get(&url).send().await {
                Ok(r) => {
                    let status = r.status().as_u16();
                    (Some(status), r.bytes().await.is_ok())
                }
                Err(_) => (None, false),
            };
            (due, due.elapsed(), status, ok)
        });
    }
    while let Some(done) = inflight.join_next().await {
        let Ok((due, took, status, ok)) = done else {
            tally.errors += 1;
            continue;
        };
        if !window.counts(due) {
            continue;
        }
        match status {
            Some(200) if ok => tally.latencies_us.push(took.as_micros() as u64),
            Some(s) if s != 200 => tally.fail(Failure::Status(s, "probe".into())),
            _ => tally.fail(Failure::Other("probe: no answer".into())),
        }
    }
    tally
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let local = tokio::task::LocalSet::new();
    match local.block_on(&rt, run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `ready`: the first 200 from `url`, in ms since `since` (Unix time, ns).
/// Plain HTTP/1.1 over a new TCP connection each time: building a reqwest
/// client (its TLS roots) took ~15 ms, longer than the start it measures.
async fn ready(url: &str, since: u128, limit: Duration) -> Result<(), Failure> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = reqwest::Url::parse(url).map_err(|e| Failure::Other(format!("{url}: {e}")))?;
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return Err(Failure::Other(format!("{url}: no host or port")));
    };
    let addr = format!("{host}:{port}");
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
        url.path()
    );
    let answered_200 = || async {
        let mut conn = tokio::net::TcpStream::connect(&addr).await.ok()?;
        conn.write_all(request.as_bytes()).await.ok()?;
        let mut head = [0u8; 12];
        conn.read_exact(&mut head).await.ok()?;
        head.starts_with(b"HTTP/1.1 200").then_some(())
    };
    let give_up = Instant::now() + limit;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if answered_200().await.is_some() {
            use portico_core::Clock;
            let now = portico_core::SystemClock
                .now()
                .timestamp_nanos_opt()
                .ok_or_else(|| Failure::Other("the clock is past 2262".into()))?;
            let ms = (i128::from(now) - since as i128).max(0) as f64 / 1e6;
            println!(
                "{}",
                json!({ "mode": "ready", "ready_ms": (ms * 10.0).round() / 10.0 })
            );
            return Ok(());
        }
        if Instant::now() >= give_up {
            return Err(Failure::Other(format!(
                "no 200 from {url} within {limit:?}"
            )));
        }
    }
}

async fn run(args: Args) -> Result<(), Failure> {
    if args.mode == Mode::Ready {
        let since = args
            .since_unix_ns
            .ok_or_else(|| Failure::Other("ready needs --since-unix-ns".into()))?;
        return ready(&args.issuer, since, Duration::from_secs_f64(args.duration)).await;
    }
    let missing = |name: &str| Failure::Other(format!("{name} is required"));
    let op = Op::discover(
        &args.issuer,
        flow::Client {
            id: args.client_id.ok_or_else(|| missing("--client-id"))?,
            secret: args
                .client_secret
                .ok_or_else(|| missing("--client-secret"))?,
            redirect_uri: args.redirect_uri.ok_or_else(|| missing("--redirect-uri"))?,
            scope: args.scope,
            password: args.password,
        },
    )
    .await?;
    let ctx = Rc::new(Ctx {
        op,
        user_template: args.user_template,
        users: args.users,
        setup: tokio::sync::Semaphore::new(args.setup_connections.max(1)),
    });
    if args.mode == Mode::Token {
        let (tokens, _) = flow::full(&Browser::new()?, &ctx.op, &ctx.user(0)).await?;
        println!("{tokens}");
        return Ok(());
    }
    // Refresh chains start before the clock does.
    let mut browsers = Vec::new();
    let mut starts = tokio::task::JoinSet::new();
    for w in 0..args.connections {
        let ctx = Rc::clone(&ctx);
        starts.spawn_local(async move {
            let b = Browser::new()?;
            let chain = if args.mode == Mode::Refresh {
                Some(chain_start(&ctx, &b, &ctx.user(w)).await?)
            } else {
                None
            };
            Ok::<_, Failure>((w, b, chain))
        });
    }
    while let Some(started) = starts.join_next().await {
        browsers.push(started.map_err(|e| Failure::Other(e.to_string()))??);
    }
    let now = Instant::now();
    let window = Window {
        start: now + Duration::from_secs_f64(args.warmup),
        end: now + Duration::from_secs_f64(args.warmup + args.duration),
    };
    let mut workers = tokio::task::JoinSet::new();
    for (w, b, chain) in browsers {
        workers.spawn_local(worker(args.mode, Rc::clone(&ctx), b, w, chain, window));
    }
    let prober = args
        .probe_url
        .clone()
        .map(|url| tokio::task::spawn_local(probe(url, args.probe_rate, window)));
    let mut total = Tally::default();
    while let Some(t) = workers.join_next().await {
        total.merge(t.map_err(|e| Failure::Other(format!("a worker failed: {e}")))?);
    }
    let mut probe = match prober {
        Some(p) => Some(
            p.await
                .map_err(|e| Failure::Other(format!("the probe failed: {e}")))?,
        ),
        None => None,
    };
    if let Some(f) = total
        .first_failure
        .as_ref()
        .or(probe.as_ref().and_then(|p| p.first_failure.as_ref()))
    {
        eprintln!("loadgen: first failure: {f}");
    }
    let mode = match args.mode {
        Mode::Refresh => "refresh",
        Mode::Flow => "flow",
        Mode::Login => "login",
        Mode::Token => "token",
        Mode::Ready => "ready",
    };
    let mut out = json!({
        "mode": mode,
        "connections": args.connections,
        "duration_s": args.duration,
        "requests": total.latencies_us.len(),
        "rps": (total.latencies_us.len() as f64 / args.duration).round(),
        "p50_ms": total.percentile_ms(0.50),
        "p99_ms": total.percentile_ms(0.99),
        "errors": total.errors,
        "non_2xx": total.non_2xx,
        "consents": total.consents,
    });
    if let Some(p) = probe.as_mut() {
        out["probe_url"] = json!(args.probe_url);
        out["probe_requests"] = json!(p.latencies_us.len());
        out["probe_p50_ms"] = json!(p.percentile_ms(0.50));
        out["probe_p99_ms"] = json!(p.percentile_ms(0.99));
        out["probe_errors"] = json!(p.errors);
        out["probe_non_2xx"] = json!(p.non_2xx);
    }
    println!("{out}");
    Ok(())
}
