import Foundation

/// A CSV table as basin writes them (`writeCSV`): one header line, comma-separated fields
/// without quoting. Read by the figures (`basin plot`) and the reports (`basin report`).
struct CSVTable {
    let path: String
    let header: [String]
    /// Rows with their 1-based line numbers (for error messages).
    let rows: [(line: Int, fields: [String])]
    /// The same rows as column name -> field.
    let records: [[String: String]]

    /// `allowEmpty` accepts a header without rows (a report then says "not measured").
    init(path: String, allowEmpty: Bool = false) throws {
        try requireFile(path, what: "CSV table")
        guard let data = FileManager.default.contents(atPath: path) else { throw PlotInputError("cannot read \(path)") }
        guard let text = String(data: data, encoding: .utf8) else { throw PlotInputError("\(path) is not a UTF-8 text table") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        guard let first = lines.first, !first.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw PlotInputError("\(path) is empty (no header line)")
        }
        self.path = path
        header = commaList(first)
        var rows: [(Int, [String])] = []
        for (index, line) in lines.enumerated().dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let fields = commaList(line)
            guard fields.count == header.count else {
                throw PlotInputError("\(path) line \(index + 1) has \(fields.count) fields but the header has \(header.count)")
            }
            rows.append((index + 1, fields))
        }
        guard allowEmpty || !rows.isEmpty else { throw PlotInputError("\(path) has a header but no rows") }
        self.rows = rows
        let names = header
        records = rows.map { row in
            Dictionary(names.indices.map { (names[$0], row.1[$0]) }, uniquingKeysWith: { first, _ in first })
        }
    }


    func column(_ name: String) throws -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw PlotInputError("\(path) has no column '\(name)' (columns: \(header.joined(separator: ",")))")
        }
        return index
    }

    func require(_ columns: [String]) throws {
        let missing = columns.filter { !header.contains($0) }
        guard missing.isEmpty else { throw PlotInputError("\(path) lacks the column(s) \(missing.joined(separator: ", "))") }
    }

    /// A number field: `nan` and an empty field read as NaN.
    func number(_ row: (line: Int, fields: [String]), _ column: Int) throws -> Double {
        let text = row.fields[column]
        if text.isEmpty || text.lowercased() == "nan" { return .nan }
        guard let value = Double(text) else {
            throw PlotInputError("\(path) line \(row.line): \(header[column]) '\(text)' is not a number")
        }
        return value
    }
}
