package bench

// Internals the external specs (package bench_test) exercise.
var (
	StepLine = stepLine
	Judge    = judge
)

// Best and BestDrops are the steps a report gives: the highest passing
// both bounds, and the highest passing the drops bound alone.
func Best(steps []Step) (Step, bool)      { return best(steps, passed) }
func BestDrops(steps []Step) (Step, bool) { return best(steps, passedDrops) }
