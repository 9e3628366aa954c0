// BasinRecipes owns training recipes: the training loop, pre-training, fine-tuning and the
// ensemble methods (Local DE, Global DE, SSE, StarSSE, FGE).
import BasinCore
