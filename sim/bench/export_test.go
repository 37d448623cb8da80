package bench

// Internals the external specs (package bench_test) exercise.
var (
	Best     = best
	StepLine = stepLine
)
