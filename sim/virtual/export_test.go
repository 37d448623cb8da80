package virtual

// Scribbled returns opt with every answer a server hands over as a value
// overwritten once delivered (Options.scribble).
func Scribbled(opt Options) Options {
	opt.scribble = true
	return opt
}
