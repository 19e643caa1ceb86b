import Foundation
import Testing

@testable import CgroupFormats

/// Issue 2, item 3: every case of ../shared/fixtures/corpus and ../shared/fixtures/incidents is
/// either checked field by field against our parsers and resolver, listed as a documented
/// divergence (the table below, mirrored in docs/conformance.md), or listed as not in scope with
/// its kind. Nothing is filtered out before classification, and a summary per source is printed.
@Suite("Conformance corpus")
struct CorpusConformanceTests {
    /// A case we answer differently on purpose. `keys` are exactly the comparisons that differ, so a
    /// new, undocumented difference in the same case still fails.
    struct Divergence: Sendable {
        let caseID: String
        let keys: Set<String>
        let reason: String
    }

    /// Kinds no suite compares yet, and why. Counted and listed.
    static let outOfScope: [String: String] = [
        "cgroup-spec-v1": "cadvisor container spec from control files: limits issue",
        "cgroup-spec-v2": "cadvisor container spec from control files: limits issue",
        "mountinfo-diff": "util-linux mount-table diff: not a cgroup operation",
        "mount-refs": "kubernetes bind-mount reference search: not a cgroup operation",
        "field-match": "kubernetes raw-field comparison; our parser strips \\040(deleted) itself (unit-tested)",
        "cgroup-version-detect": "v1/v2 decision of one consumer (JDK, automaxprocs): consumer-model issue",
        "cgroup-version-detect+resolve": "JDK CgroupSubsystemFactory type decision and mount preference: consumer-model issue",
    ]

    static let divergences: [Divergence] = DivergenceTable.all

    // MARK: evaluation

    static func verdict(_ c: CorpusCase) -> (Verdict, [String]) {
        guard let json = c.json("expected.json") as? [String: Any], let kind = json["kind"] as? String else {
            return (.failed(["expected.json missing or without kind"]), [])
        }
        if let reason = outOfScope[kind] { return (.outOfScope(kind: kind), [reason]) }
        // Limit-file kinds are compared by LimitFilesConformanceTests (issue 5); their deliberate
        // divergences are documented in docs/limits.md.
        if LimitFilesConformanceTests.kinds.contains(kind) {
            let mismatches = LimitFilesConformanceTests.evaluate(c, json: json)
            if mismatches.isEmpty { return (.passed, []) }
            if LimitFilesConformanceTests.divergences[c.id] != nil { return (.diverged, mismatches) }
            return (.failed(mismatches), [])
        }
        var m = Mismatches()
        if FormatsConformance.kinds.contains(kind) {
            FormatsConformance.check(c, kind: kind, json: json, &m)
        } else if ResolutionConformance.kinds.contains(kind) {
            ResolutionConformance.check(c, kind: kind, json: json, &m)
        } else {
            return (.failed(["unclassified kind \(kind)"]), [])
        }
        return judge(c.id, m)
    }

    static func verdict(_ incident: IncidentCase) -> (Verdict, [String]) {
        var m = Mismatches()
        IncidentConformance.check(incident, &m)
        return judge(incident.id, m)
    }

    static func judge(_ id: String, _ m: Mismatches) -> (Verdict, [String]) {
        let documented = divergences.first { $0.caseID == id }
        switch (m.isEmpty, documented) {
        case (true, nil): return (.passed, [])
        case (true, let divergence?):
            return (.failed(["documented divergence no longer occurs: \(divergence.keys.sorted())"]), [])
        case (false, let divergence?) where divergence.keys == m.keys:
            return (.diverged, m.rendered)
        case (false, let divergence?):
            return (.failed(m.rendered + ["documented keys \(divergence.keys.sorted()) != found \(m.keys.sorted())"]), [])
        case (false, nil):
            return (.failed(["differing keys \(m.keys.sorted())"] + m.rendered), [])
        }
    }

    // MARK: tests

    @Test("corpus case", arguments: CorpusCase.all)
    func corpusCase(_ c: CorpusCase) {
        let (verdict, _) = Self.verdict(c)
        if case .failed(let details) = verdict {
            Issue.record("\(c.id): \(details.joined(separator: "\n  "))")
        }
    }

    @Test("incident", arguments: IncidentCase.all)
    func incident(_ incident: IncidentCase) {
        let (verdict, _) = Self.verdict(incident)
        if case .failed(let details) = verdict {
            Issue.record("\(incident.id): \(details.joined(separator: "\n  "))")
        }
    }

    @Test("every case is classified; summary per source")
    func summary() throws {
        var rows: [String: (passed: Int, diverged: Int, outOfScope: Int, failed: Int)] = [:]
        var listing: [String] = []
        var failures: [String] = []
        func record(_ source: String, _ id: String, _ verdict: Verdict, _ notes: [String]) {
            var row = rows[source] ?? (0, 0, 0, 0)
            switch verdict {
            case .passed: row.passed += 1
            case .diverged:
                row.diverged += 1
                listing.append("  diverged      \(id)")
            case .outOfScope(let kind):
                row.outOfScope += 1
                listing.append("  not in scope: \(kind)  \(id)")
            case .failed(let details):
                row.failed += 1
                failures.append("\(id): \(details.joined(separator: "; "))")
            }
            rows[source] = row
        }
        let cases = CorpusCase.all
        for c in cases {
            let (verdict, notes) = Self.verdict(c)
            record(c.source, c.id, verdict, notes)
        }
        for incident in IncidentCase.all {
            let (verdict, notes) = Self.verdict(incident)
            record("incidents", incident.id, verdict, notes)
        }

        var table = "source                              passed  diverged  out-of-scope  failed  total\n"
        var total = (0, 0, 0, 0)
        for source in rows.keys.sorted() {
            let r = rows[source]!
            let sum = r.passed + r.diverged + r.outOfScope + r.failed
            table += source.padding(toLength: 36, withPad: " ", startingAt: 0)
                + [r.passed, r.diverged, r.outOfScope, r.failed, sum].map { String($0).leftPad(8) }.joined() + "\n"
            total = (total.0 + r.passed, total.1 + r.diverged, total.2 + r.outOfScope, total.3 + r.failed)
        }
        table += "total".padding(toLength: 36, withPad: " ", startingAt: 0)
            + [total.0, total.1, total.2, total.3, total.0 + total.1 + total.2 + total.3].map { String($0).leftPad(8) }.joined()
        print("Conformance summary (docs/conformance.md)\n\(table)\n\(listing.joined(separator: "\n"))")

        // The corpus says 255 cases in 19 sources; the incidents folder has 7 stems.
        #expect(cases.count == 255, "corpus cases found: \(cases.count)")
        #expect(Set(cases.map(\.source)).count == 19)
        #expect(IncidentCase.all.count == 7, "incident stems found: \(IncidentCase.all.map(\.stem))")
        #expect(total.0 + total.1 + total.2 + total.3 == cases.count + IncidentCase.all.count)
        #expect(failures.isEmpty, "\(failures.count) failed:\n\(failures.joined(separator: "\n"))")
    }

    /// The divergence table here and the one in docs/conformance.md list the same cases.
    @Test("divergences match docs/conformance.md")
    func divergencesAreDocumented() throws {
        let doc = try String(contentsOf: FixturePaths.conformanceDoc, encoding: .utf8)
        var documented = Set<String>()
        var inTable = false
        for line in doc.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") { inTable = line.contains("Diverging cases") }
            guard inTable, line.hasPrefix("| `") else { continue }
            let id = line.dropFirst(3).prefix { $0 != "`" }
            documented.insert(String(id))
        }
        let inTest = Set(Self.divergences.map(\.caseID))
        #expect(Self.divergences.count == inTest.count, "a case is listed twice in DivergenceTable")
        #expect(inTest.subtracting(documented).isEmpty, "missing from docs/conformance.md: \(inTest.subtracting(documented).sorted())")
        #expect(documented.subtracting(inTest).isEmpty, "documented but not in the test: \(documented.subtracting(inTest).sorted())")
        let known = Set(CorpusCase.all.map(\.id)).union(IncidentCase.all.map(\.id))
        #expect(inTest.subtracting(known).isEmpty, "divergences for unknown cases: \(inTest.subtracting(known).sorted())")
    }
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
