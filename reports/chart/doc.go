// Package chart draws the lab's figures with gonum.org/v1/plot and renders
// them as SVG fragments ready to inline in an HTML page: line charts over
// time with vertical markers (faults, restarts), step curves such as a
// cumulative distribution, grouped bar charts with their values on the
// bars, and scatter charts (Scatter, also as a standalone SVG document,
// sweep.svg). It knows nothing of reports: it takes plain series and
// labels.
//
// The SVG names its fonts (Liberation Sans, the metrics the layout was
// computed with) without embedding them, so a page stays small; a browser
// without that font substitutes its sans-serif.
package chart
