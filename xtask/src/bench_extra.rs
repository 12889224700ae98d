//! Benchmarks beside the API scenarios: CLI vs kcadm.sh, RS256 verify, the chart (being written).
