"""Load tests and benchmarks of the gateway: `make bench` (loadtests/bench.py, wrk against the gateway
and its yardsticks) and `make loadtest` (loadtests/loadtest.py, locust's realistic mix against
`make run`'s platform). docs/benchmarks.md holds the latest figures and how to read them."""
