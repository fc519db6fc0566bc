// Package simulator plays a verification provider (FrankieOne, FPT.AI or the generic format) end to
// end against a running kycdesk: it serves the provider's API and pictures and sends its webhooks.
//
// Run sends a fixed number of verifications at a chosen rate with a mix of outcomes (see ParseMix),
// duplicates and out-of-order redeliveries; RunTrickle feeds the demo one verification at a time.
// Everything a run sends follows from its seed, so a run can be replayed.
package simulator
