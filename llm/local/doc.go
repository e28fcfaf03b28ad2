// Package local is yanit's offline, deterministic default model: everything
// the assistant needs to understand a message without a network, an account
// or downloaded weights, in Turkish and English.
//
// It owns
//   - Fold, the Turkish-aware text normalisation every other piece uses
//     ("İPTAL", "IPTAL", "ıptal" and "iptal" all fold to "iptal");
//   - Embedder, multilingual hashing embeddings (word and character n-grams,
//     signed FNV-1a hashing, unit length) for knowledge search;
//   - Classifier, intent classification trained at start from example
//     utterances (Train), with calibrated probabilities and an
//     out-of-scope decision by threshold (ChooseThreshold picks it on
//     validation data);
//   - ExtractSlots and SlotExtractor: order numbers, dates, times, amounts,
//     phone numbers and e-mail addresses, plus per-intent patterns from
//     configuration;
//   - the evaluation helpers behind `yanit eval intents`: dataset loaders
//     (LoadCLINC150, LoadXSID, LoadCSV), metrics (accuracy, macro-F1,
//     out-of-scope precision and recall, expected calibration error,
//     latency percentiles) and EvaluateIntents.
//
// Everything is deterministic: the same input, options and seed give the
// same vectors, classifier and predictions on every machine. Training uses
// TrainOptions.Workers goroutines (default GOMAXPROCS), which changes its
// speed but never its result.
//
// Concurrency: Fold, ExtractSlots and the metrics are pure functions; an
// Embedder, a trained Classifier and a SlotExtractor are immutable and safe
// for concurrent use by any number of goroutines.
package local
