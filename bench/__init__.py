"""Benchmarks of the authorization gate, a tooling package beside (not inside) the `coterie`
runtime package: a seeded data set generator (`dataset`), its loading into a dedicated database
(`database`), consistency checks through the app's own code (`verify`), the measurements
(`suite`, `timing`), reports (`report`) and the command line `python -m bench` (`cli`). It
imports `coterie`; nothing in `coterie` imports it. Results go to bench/results/."""
