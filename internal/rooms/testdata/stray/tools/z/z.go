// Package z is in a folder that no room holds.
package z
