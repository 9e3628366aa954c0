/// Residual addition: y = main(x) + shortcut(x), shortcut the identity when empty.
/// Both branches must produce the same shape.
public final class Residual: Layer {
    public let name: String
    public let main: Sequential
    public let shortcut: Sequential

    public init(_ name: String, main: Sequential, shortcut: Sequential) {
        self.name = name
        self.main = main
        self.shortcut = shortcut
    }

    public var parameters: [Parameter] { main.parameters + shortcut.parameters }
    public var buffers: [Buffer] { main.buffers + shortcut.buffers }

    public struct Cache { let main: [Any]; let shortcut: [Any] }

    public func forward(_ x: Tensor, _ context: ForwardContext) throws -> (Tensor, Cache) {
        var (y, mainCache) = try main.forward(x, context)
        let (s, shortcutCache) = try shortcut.forward(x, context)
        guard y.shape == s.shape else {
            throw ShapeMismatch(layer: name, expected: "shortcut shape \(shapeString(s.shape))", actual: y.shape)
        }
        addInPlace(&y, s)
        return (y, Cache(main: mainCache, shortcut: shortcutCache))
    }

    public func infer(_ x: inout Tensor, _ context: ForwardContext) throws {
        var y = x
        try main.infer(&y, context)
        try shortcut.infer(&x, context)
        guard y.shape == x.shape else {
            throw ShapeMismatch(layer: name, expected: "shortcut shape \(shapeString(x.shape))", actual: y.shape)
        }
        // main + shortcut in this order, as the caching forward pass adds them.
        addInPlace(&y, x)
        x = y
    }

    public func backward(_ dy: Tensor, _ cache: Cache, needInputGradient: Bool) -> Tensor? {
        let dMain = main.backward(dy, cache.main, needInputGradient: needInputGradient)
        let dShortcut = shortcut.backward(dy, cache.shortcut, needInputGradient: needInputGradient)
        guard needInputGradient, var dx = dMain, let ds = dShortcut else { return nil }
        addInPlace(&dx, ds)
        return dx
    }
}

/// a += b elementwise, split across threads.
func addInPlace(_ a: inout Tensor, _ b: Tensor) {
    precondition(a.count == b.count, "addInPlace: \(a.count) and \(b.count) elements")
    a.storage.withUnsafeMutableBufferPointer { ap in
        b.storage.withUnsafeBufferPointer { bp in
            parallelChunks(ap.count, minPerWorker: 1 << 16) { _, range in
                for i in range { ap[i] += bp[i] }
            }
        }
    }
}
