import CBLAS
import CRuntime
import Dispatch

/// How many threads the core uses. BLAS itself runs single-threaded: the core splits work
/// across threads itself, statically, so that a given thread count always assigns the same
/// work to the same worker and reductions happen in the same order (same seed, same thread
/// count, same bits).
public enum Threads {
    nonisolated(unsafe) public private(set) static var count: Int = 1

    public static func configure(_ n: Int) {
        count = max(1, n)
        openblas_set_num_threads(1)
        // Activations of a batch are tens of megabytes; by default glibc maps and unmaps
        // every such block, and the page faults of re-mapping cost as much as the arithmetic.
        basin_keep_freed_memory()
    }
}

/// Runs `body(worker, range)` over `0..<n` split into `Threads.count` contiguous chunks.
/// The split depends only on `n` and the thread count.
@inline(__always)
func parallelChunks(_ n: Int, minPerWorker: Int = 1, _ body: (Int, Range<Int>) -> Void) {
    let workers = max(1, min(Threads.count, n / max(1, minPerWorker)))
    if workers == 1 {
        body(0, 0..<n)
        return
    }
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        let lo = n * w / workers, hi = n * (w + 1) / workers
        body(w, lo..<hi)
    }
}

/// The number of workers `parallelChunks` uses for `n` items; callers size per-worker scratch.
func workerCount(_ n: Int, minPerWorker: Int = 1) -> Int {
    max(1, min(Threads.count, n / max(1, minPerWorker)))
}

/// Row-major single-precision GEMM: C[m,n] = alpha * op(A) op(B) + beta * C.
@inline(__always)
func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// GEMM split across threads along the rows of C (never along k, so sums keep their order).
func parallelSgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                   a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                   beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    // Small products do not pay for a thread hand-off.
    let minRows = max(1, 64 * 64 * 64 / max(1, n * k))
    parallelChunks(m, minPerWorker: max(minRows, 8)) { _, rows in
        guard !rows.isEmpty else { return }
        let aRow = transA ? a + rows.lowerBound : a + rows.lowerBound * lda
        sgemm(transA: transA, transB: transB, m: rows.count, n: n, k: k, alpha: alpha,
              a: aRow, lda: lda, b: b, ldb: ldb, beta: beta, c: c + rows.lowerBound * ldc, ldc: ldc)
    }
}
