package session

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress reports what a session is doing: lines (Logf) and, while a task
// runs (Start ... End), its status. Where a terminal is attached the
// status is a bar (schollz/progressbar) redrawn in place every 250 ms, the
// lines written above it; otherwise (not a terminal, CI=true) a plain
// status line every PlainEvery of the task, or none. A nil writer makes
// it silent. Its methods may be called from any goroutine.
type Progress struct {
	w        io.Writer
	terminal bool

	mu   sync.Mutex
	bar  *progressbar.ProgressBar
	stop chan struct{}
	done chan struct{}
}

// NewProgress returns a reporter writing to w (nil: silent); terminal
// chooses the bar.
func NewProgress(w io.Writer, terminal bool) *Progress {
	return &Progress{w: w, terminal: terminal}
}

// Logf writes one line, clearing the bar first (the next tick redraws it).
func (p *Progress) Logf(format string, a ...any) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintf(p.w, format+"\n", a...)
}

// Start begins a task of length total, ending the one under way. status
// describes it after el; on a terminal it labels the bar, otherwise it is
// written as a line every plainEvery (0: never). The bar fills with the
// time elapsed.
func (p *Progress) Start(total, plainEvery time.Duration, status func(el time.Duration) string) {
	p.Track(total, plainEvery, nil, status)
}

// Track is Start for a task whose progress is not the time elapsed: the
// bar stands at position(el) of total (a virtual clock's time played,
// say). position is called from the reporter's goroutine.
func (p *Progress) Track(total, plainEvery time.Duration, position func(el time.Duration) time.Duration, status func(el time.Duration) string) {
	if p == nil || p.w == nil {
		return
	}
	p.End()
	if !p.terminal && plainEvery <= 0 {
		return
	}
	start := time.Now()
	every := plainEvery
	var bar *progressbar.ProgressBar
	if p.terminal {
		every = 250 * time.Millisecond
		bar = progressbar.NewOptions64(max(total.Milliseconds(), 1),
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionUseANSICodes(true),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetElapsedTime(false),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetRenderBlankState(false),
		)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	p.mu.Lock()
	p.bar, p.stop, p.done = bar, stop, done
	p.mu.Unlock()
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				el := time.Since(start)
				at := el
				if position != nil {
					at = position(el)
				}
				p.mu.Lock()
				if bar != nil {
					bar.Describe(status(el))
					// below the maximum: a full bar would finish itself
					_ = bar.Set64(min(at.Milliseconds(), max(total.Milliseconds(), 1)-1))
				} else {
					fmt.Fprintln(p.w, status(el))
				}
				p.mu.Unlock()
			}
		}
	}()
}

// End stops the task under way, if any, and clears its bar.
func (p *Progress) End() {
	if p == nil {
		return
	}
	p.mu.Lock()
	stop, done := p.stop, p.done
	p.stop, p.done = nil, nil
	p.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	<-done
	p.mu.Lock()
	if p.bar != nil {
		_ = p.bar.Clear()
		_ = p.bar.Exit()
		p.bar = nil
	}
	p.mu.Unlock()
}

// Lines returns a writer whose each complete line is written with Logf,
// above the bar: a nested task's plain progress lines (a lab run inside
// a sweep) under this reporter's.
func (p *Progress) Lines() io.Writer { return &lineWriter{p: p} }

type lineWriter struct {
	p   *Progress
	buf []byte
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		if line := bytes.TrimRight(l.buf[:i], "\r"); len(line) > 0 {
			l.p.Logf("%s", line)
		}
		l.buf = l.buf[i+1:]
	}
}
