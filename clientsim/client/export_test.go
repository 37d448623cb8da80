package client

// HoldsAside reports whether c keeps an aside (Advertises, declines,
// releases, a NotOnLink): for the specs that check a bound client keeps
// none.
func HoldsAside(c *Client) bool { return c.x != nil }

// HoldsTemplate reports whether c keeps room for an exchange's template.
func HoldsTemplate(c *Client) bool { return c.ex.room != nil }
