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
        y.storage.withUnsafeMutableBufferPointer { yp in
            s.storage.withUnsafeBufferPointer { sp in
                for i in 0..<yp.count { yp[i] += sp[i] }
            }
        }
        return (y, Cache(main: mainCache, shortcut: shortcutCache))
    }

    public func infer(_ x: inout Tensor, _ context: ForwardContext) throws {
        var y = x
        try main.infer(&y, context)
        try shortcut.infer(&x, context)
        guard y.shape == x.shape else {
            throw ShapeMismatch(layer: name, expected: "shortcut shape \(shapeString(x.shape))", actual: y.shape)
        }
        x.storage.withUnsafeMutableBufferPointer { sp in
            y.storage.withUnsafeBufferPointer { yp in
                for i in 0..<sp.count { sp[i] = yp[i] + sp[i] }
            }
        }
    }

    public func backward(_ dy: Tensor, _ cache: Cache, needInputGradient: Bool) -> Tensor? {
        let dMain = main.backward(dy, cache.main, needInputGradient: needInputGradient)
        let dShortcut = shortcut.backward(dy, cache.shortcut, needInputGradient: needInputGradient)
        guard needInputGradient, var dx = dMain, let ds = dShortcut else { return nil }
        dx.storage.withUnsafeMutableBufferPointer { d in
            ds.storage.withUnsafeBufferPointer { s in
                for i in 0..<d.count { d[i] += s[i] }
            }
        }
        return dx
    }
}
