// BasinPlot owns figures: heatmaps and charts drawn with cairo and encoded to PNG with
// libpng. It draws arrays, coordinates and labels and knows nothing of training.
