package virtual

// Scribbled returns opt with every answer a server hands over as a value
// overwritten once delivered (Options.delivered).
func Scribbled(opt Options) Options {
	opt.delivered = scribble
	return opt
}
