// BasinData owns data sets: reading Fashion-MNIST's gzip IDX files (and other formats),
// class subsets and re-indexing, normalization, augmentation and batching.
import BasinCore
