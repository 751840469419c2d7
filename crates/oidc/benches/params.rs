//! Parameter parsing cost (issue 10): reading a request's parameters and
//! finding a repeated name must be linear in their number, since it runs
//! before the client is authenticated. `cargo bench -p portico-oidc --bench params`
//! prints the time for 20,000 and 200,000 distinct names; linear means a
//! ratio near 10, quadratic (the pairwise scan it replaced) about 100. Measured
//! on the 2-core build machine (2026-12-05): 7.7 ms vs 148 ms, a ratio of 19
//! (allocation and cache misses grow with the map); refusing either input at
//! /token's limits takes 4.5 ns, independent of its size.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use portico_oidc::authorize::{ParamLimits, RawParams, parse_pairs};
use std::hint::black_box;

fn distinct_names(n: usize) -> String {
    (0..n)
        .map(|i| format!("p{i}=v"))
        .collect::<Vec<_>>()
        .join("&")
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("params");
    group.sample_size(10);
    for n in [20_000usize, 200_000] {
        let input = distinct_names(n);
        // Limits wide open: this measures the parser, not the early refusal.
        let open = ParamLimits {
            max_bytes: usize::MAX,
            max_params: usize::MAX,
        };
        group.bench_with_input(
            BenchmarkId::new("parse_and_check", n),
            &input,
            |b, input| {
                b.iter(|| {
                    let pairs = parse_pairs(black_box(input.as_bytes()), open).unwrap();
                    let raw = RawParams::new(pairs);
                    black_box(raw.first_repeated().is_some())
                })
            },
        );
        // What an endpoint actually does with it: refuse before decoding.
        group.bench_with_input(BenchmarkId::new("refused_token", n), &input, |b, input| {
            b.iter(|| {
                black_box(parse_pairs(black_box(input.as_bytes()), ParamLimits::TOKEN).is_err())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
