package client

// HoldsAside reports whether c keeps an aside (Advertises, declines,
// releases, a NotOnLink): for the specs that check a bound client keeps
// none.
func HoldsAside(c *Client) bool { return c.x != nil }

// HoldsTemplate reports whether c keeps room for an exchange's template.
func HoldsTemplate(c *Client) bool { return c.ex.tmpl != nil }

// HoldsIAOption reports whether c keeps a built option for its first IA
// (ia.option's cache).
func HoldsIAOption(c *Client) bool { return len(c.ias) > 0 && c.ias[0].opt != nil }
