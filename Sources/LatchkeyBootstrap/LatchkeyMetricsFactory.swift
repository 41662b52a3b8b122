public import Metrics
public import Prometheus

/// The swift-metrics factory of the process: Prometheus, with each catalogued metric's help text (`# HELP`) and
/// buckets from `MetricsCatalogue`. Metrics not in the catalogue are made as plain Prometheus metrics.
public struct LatchkeyMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    let plain: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        var plain = PrometheusMetricsFactory(registry: registry)
        for entry in MetricsCatalogue.entries {
            if let buckets = entry.buckets { plain.valueHistogramBuckets[Self.name(entry.label)] = buckets }
        }
        self.plain = plain
    }

    /// Creates every catalogued series that has fixed dimension values, at 0, so `/metrics` shows it from start.
    public func exportCatalogue() {
        for entry in MetricsCatalogue.entries {
            for dimensions in entry.initial {
                switch entry.kind {
                case .counter: _ = makeCounter(label: entry.label, dimensions: dimensions)
                case .gauge: _ = makeRecorder(label: entry.label, dimensions: dimensions, aggregate: false)
                case .timer: _ = makeTimer(label: entry.label, dimensions: dimensions)
                case .histogram: _ = makeRecorder(label: entry.label, dimensions: dimensions, aggregate: true)
                case .meter: _ = makeMeter(label: entry.label, dimensions: dimensions)
                }
            }
        }
    }

    /// The exported name of a label: characters Prometheus does not allow become `_`.
    static func name(_ label: String) -> String {
        String(label.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" ? $0 : "_" })
    }

    static func labels(_ dimensions: [(String, String)]) -> [(String, String)] {
        dimensions.map { (name($0.0), $0.1) }
    }

    func descriptor(_ label: String) -> MetricNameDescriptor? {
        MetricsCatalogue.entry(for: label).map { MetricNameDescriptor(metricName: Self.name(label), unitName: "", helpText: $0.help) }
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard let descriptor = descriptor(label) else { return plain.makeCounter(label: label, dimensions: dimensions) }
        return registry.makeCounter(descriptor: descriptor, labels: Self.labels(dimensions))
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        guard let descriptor = descriptor(label) else { return plain.makeFloatingPointCounter(label: label, dimensions: dimensions) }
        return registry.makeCounter(descriptor: descriptor, labels: Self.labels(dimensions))
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard let descriptor = descriptor(label) else { return plain.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate) }
        guard aggregate else { return registry.makeGauge(descriptor: descriptor, labels: Self.labels(dimensions)) }
        let buckets = MetricsCatalogue.entry(for: label)?.buckets ?? plain.defaultValueHistogramBuckets
        return registry.makeValueHistogram(descriptor: descriptor, labels: Self.labels(dimensions), buckets: buckets)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        guard let descriptor = descriptor(label) else { return plain.makeMeter(label: label, dimensions: dimensions) }
        return registry.makeGauge(descriptor: descriptor, labels: Self.labels(dimensions))
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard let descriptor = descriptor(label) else { return plain.makeTimer(label: label, dimensions: dimensions) }
        return registry.makeDurationHistogram(descriptor: descriptor, labels: Self.labels(dimensions), buckets: plain.defaultDurationHistogramBuckets)
    }

    public func destroyCounter(_ handler: any CounterHandler) { plain.destroyCounter(handler) }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { plain.destroyFloatingPointCounter(handler) }
    public func destroyRecorder(_ handler: any RecorderHandler) { plain.destroyRecorder(handler) }
    public func destroyMeter(_ handler: any MeterHandler) { plain.destroyMeter(handler) }
    public func destroyTimer(_ handler: any TimerHandler) { plain.destroyTimer(handler) }
}
