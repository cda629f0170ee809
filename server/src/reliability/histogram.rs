//! Latency histograms with logarithmic buckets, the form in which rollups keep durations:
//! each bucket is 10% wider than the one before, so a percentile read back from counts is
//! within about 5% of the true value, whatever the scale (milliseconds to days).

/// Bucket 0 holds values below 1 ms; bucket k ≥ 1 holds [GROWTH^(k-1), GROWTH^k) ms.
const GROWTH: f64 = 1.1;
/// The last bucket also takes everything above it (1.1^299 ms is far beyond a year).
pub const MAX_BUCKET: i16 = 300;

/// The bucket a value in milliseconds falls into.
pub fn bucket_of(ms: f64) -> i16 {
    if !ms.is_finite() || ms < 1.0 {
        return 0;
    }
    let k = (ms.ln() / GROWTH.ln()).floor() as i64 + 1;
    k.clamp(1, i64::from(MAX_BUCKET)) as i16
}

/// The value a bucket stands for: its geometric middle (0 for bucket 0).
pub fn bucket_value(bucket: i16) -> f64 {
    if bucket <= 0 {
        return 0.0;
    }
    GROWTH.powf(f64::from(bucket) - 0.5)
}

/// The `q`-quantile (0..=1) of a histogram given as (bucket, count) pairs in any order;
/// `None` when it holds nothing. Uses the nearest-rank definition.
pub fn quantile(counts: &[(i16, i64)], q: f64) -> Option<f64> {
    let total: i64 = counts.iter().map(|(_, count)| (*count).max(0)).sum();
    if total == 0 {
        return None;
    }
    let mut sorted: Vec<(i16, i64)> = counts.to_vec();
    sorted.sort_unstable_by_key(|(bucket, _)| *bucket);
    let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as i64).max(1);
    let mut seen = 0;
    for (bucket, count) in sorted {
        seen += count.max(0);
        if seen >= rank {
            return Some(bucket_value(bucket));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_land_in_buckets_whose_middle_is_within_five_percent() {
        for ms in [1.0, 1.5, 7.0, 250.0, 1_234.0, 60_000.0, 3_600_000.0, 86_400_000.0] {
            let middle = bucket_value(bucket_of(ms));
            let error = (middle - ms).abs() / ms;
            assert!(error < 0.05, "{ms} ms came back as {middle} ms");
        }
        assert_eq!(bucket_of(0.2), 0);
        assert_eq!(bucket_of(f64::NAN), 0);
        assert_eq!(bucket_of(1e300), MAX_BUCKET);
    }

    #[test]
    fn quantiles_follow_the_nearest_rank_over_the_counts() {
        // 90 values near 100 ms and 10 near 10 s: P50 is ~100 ms, P95 ~10 s.
        let counts = [(bucket_of(10_000.0), 10), (bucket_of(100.0), 90)];
        let p50 = quantile(&counts, 0.5).unwrap();
        let p95 = quantile(&counts, 0.95).unwrap();
        assert!((p50 - 100.0).abs() < 5.0, "p50 {p50}");
        assert!((p95 - 10_000.0).abs() < 500.0, "p95 {p95}");
        // The 90th value is still in the first group, the 91st is not.
        assert!(quantile(&counts, 0.90).unwrap() < 200.0);
        assert!(quantile(&counts, 0.91).unwrap() > 5_000.0);
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[(3, 0)], 0.5), None);
    }
}
