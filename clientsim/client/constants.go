package client

import "time"

// Transmission and retransmission parameters, RFC 9915 §7.6. They are the
// real RFC values; Config.Timescale multiplies them all.
const (
	SolMaxDelay = 1 * time.Second    // SOL_MAX_DELAY: max delay of the first Solicit
	SolTimeout  = 1 * time.Second    // SOL_TIMEOUT: initial Solicit timeout
	SolMaxRT    = 3600 * time.Second // SOL_MAX_RT: max Solicit timeout value

	ReqTimeout = 1 * time.Second  // REQ_TIMEOUT: initial Request timeout
	ReqMaxRT   = 30 * time.Second // REQ_MAX_RT: max Request timeout value
	ReqMaxRC   = 10               // REQ_MAX_RC: max Request retry attempts

	CnfMaxDelay = 1 * time.Second  // CNF_MAX_DELAY: max delay of the first Confirm
	CnfTimeout  = 1 * time.Second  // CNF_TIMEOUT: initial Confirm timeout
	CnfMaxRT    = 4 * time.Second  // CNF_MAX_RT: max Confirm timeout
	CnfMaxRD    = 10 * time.Second // CNF_MAX_RD: max Confirm duration

	RenTimeout = 10 * time.Second  // REN_TIMEOUT: initial Renew timeout
	RenMaxRT   = 600 * time.Second // REN_MAX_RT: max Renew timeout value

	RebTimeout = 10 * time.Second  // REB_TIMEOUT: initial Rebind timeout
	RebMaxRT   = 600 * time.Second // REB_MAX_RT: max Rebind timeout value

	InfMaxDelay = 1 * time.Second    // INF_MAX_DELAY: max delay of the first Information-request
	InfTimeout  = 1 * time.Second    // INF_TIMEOUT: initial Information-request timeout
	InfMaxRT    = 3600 * time.Second // INF_MAX_RT: max Information-request timeout value

	RelTimeout = 1 * time.Second // REL_TIMEOUT: initial Release timeout
	RelMaxRC   = 4               // REL_MAX_RC: max Release retry attempts

	DecTimeout = 1 * time.Second // DEC_TIMEOUT: initial Decline timeout
	DecMaxRC   = 4               // DEC_MAX_RC: max Decline retry attempts

	// IRT_DEFAULT and IRT_MINIMUM (§7.6, §21.23): the Information Refresh
	// Time a stateless client uses when the server sends none, and the
	// least it accepts.
	IRTDefault = 86400 * time.Second
	IRTMinimum = 600 * time.Second

	// SOL_MAX_RT and INF_MAX_RT options (§21.24, §21.25): a server may
	// override SOL_MAX_RT / INF_MAX_RT with a value in this range; the
	// client MUST ignore values outside it.
	MaxRTOptionMin = 60 * time.Second
	MaxRTOptionMax = 86400 * time.Second
)

// IAIDs the client uses for its one IA_NA and its one IA_PD.
const (
	IAIDNA uint32 = 1
	IAIDPD uint32 = 2
)

// Params are one exchange's transmission parameters (§15): the largest
// random delay before the first transmission, the initial and maximum
// retransmission timeouts, the maximum retransmission count and the
// maximum retransmission duration. A zero MRT, MRC or MRD means no limit.
type Params struct {
	MaxDelay time.Duration
	IRT      time.Duration
	MRT      time.Duration
	MRC      int
	MRD      time.Duration
}

// The parameters of each client message, RFC 9915 §18.2.1-§18.2.8 and
// §18.2.6. Renew's MRD is the time left until T2 and Rebind's the time
// left until the valid lifetimes end (§18.2.4, §18.2.5): the client sets
// those from the binding, not from here.
var (
	SolicitParams    = Params{MaxDelay: SolMaxDelay, IRT: SolTimeout, MRT: SolMaxRT}                // §18.2.1
	RequestParams    = Params{IRT: ReqTimeout, MRT: ReqMaxRT, MRC: ReqMaxRC}                        // §18.2.2
	ConfirmParams    = Params{MaxDelay: CnfMaxDelay, IRT: CnfTimeout, MRT: CnfMaxRT, MRD: CnfMaxRD} // §18.2.3
	RenewParams      = Params{IRT: RenTimeout, MRT: RenMaxRT}                                       // §18.2.4
	RebindParams     = Params{IRT: RebTimeout, MRT: RebMaxRT}                                       // §18.2.5
	InfoParams       = Params{MaxDelay: InfMaxDelay, IRT: InfTimeout, MRT: InfMaxRT}                // §18.2.6
	ReleaseParams    = Params{IRT: RelTimeout, MRC: RelMaxRC}                                       // §18.2.7
	DeclineParams    = Params{IRT: DecTimeout, MRC: DecMaxRC}                                       // §18.2.8
	LinkRebindParams = Params{MaxDelay: CnfMaxDelay, IRT: CnfTimeout, MRT: CnfMaxRT, MRD: CnfMaxRD} // §18.2.12: Rebind on a link change uses Confirm's parameters
)

// Scaled multiplies every duration by ts (ts <= 0 or 1 leaves them as they are).
func (p Params) Scaled(ts float64) Params {
	p.MaxDelay = scale(p.MaxDelay, ts)
	p.IRT = scale(p.IRT, ts)
	p.MRT = scale(p.MRT, ts)
	p.MRD = scale(p.MRD, ts)
	return p
}

func scale(d time.Duration, ts float64) time.Duration {
	if ts <= 0 || ts == 1 {
		return d
	}
	return time.Duration(float64(d) * ts)
}
