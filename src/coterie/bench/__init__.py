"""Benchmarks of the authorization gate: a seeded data set generator (`dataset`), its loading
into a dedicated database (`database`), consistency checks through the app's own code
(`verify`), the measurements (`suite`, `timing`), reports (`report`) and `coterie bench`
(`cli`). Results go to bench/results/."""
