package history

// Trigger names the events at which a run meets a gap of a client profile
// (clientsim/profile, profiles.yaml's gaps: what a real client kind does
// that the simulated clients do not). The reports size each where the run
// met it (reports/check, gaps.go).
type Trigger string

const (
	// TriggerLinkFlapped: a client held a usable address at a link flap
	// (LinkFlapped).
	TriggerLinkFlapped Trigger = "link_flapped"
	// TriggerDADFailed: a client kept an address its DAD found in use
	// (DADFailed).
	TriggerDADFailed Trigger = "dad_failed"
	// TriggerReleaseGaveUp, TriggerDeclineGaveUp: a Release or a Decline
	// ran out of transmissions, unanswered (GaveUp "release",
	// "decline").
	TriggerReleaseGaveUp Trigger = "release_gave_up"
	TriggerDeclineGaveUp Trigger = "decline_gave_up"
	// TriggerRefreshed: a stateless client refreshed its configuration
	// (an Informed event after the client's first).
	TriggerRefreshed Trigger = "refreshed"
	// TriggerRun: every run of the profile.
	TriggerRun Trigger = "run"
)

// Triggers lists every Trigger.
var Triggers = []Trigger{TriggerLinkFlapped, TriggerDADFailed, TriggerReleaseGaveUp, TriggerDeclineGaveUp, TriggerRefreshed, TriggerRun}
