import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.deidentifier.arx.ARXAnonymizer;
import org.deidentifier.arx.ARXConfiguration;
import org.deidentifier.arx.ARXLattice.ARXNode;
import org.deidentifier.arx.ARXResult;
import org.deidentifier.arx.AttributeType;
import org.deidentifier.arx.AttributeType.Hierarchy;
import org.deidentifier.arx.Data;
import org.deidentifier.arx.DataHandle;
import org.deidentifier.arx.criteria.EqualDistanceTCloseness;
import org.deidentifier.arx.criteria.HierarchicalDistanceTCloseness;
import org.deidentifier.arx.criteria.KAnonymity;
import org.deidentifier.arx.metric.Metric;
import org.deidentifier.arx.metric.Metric.AggregateFunction;

/*
 * ArxModels: Sekisho's own driver for ARX (../shared/peers/arx, not part
 * of Sekisho), for the quality models and privacy models the peer's
 * ArxBench does not ask for. It runs one anonymization of a ';'-separated
 * CSV and prints one line: ARX's optimum, its score and the rows it
 * suppressed, for tests/data/adult/arx-answers.txt (answers.sh).
 *
 *   java -cp "DIR:ARX:ARX/lib/*" ArxModels --data F --hierarchies DIR
 *       --qi a,b --k 5 [--suppression 1.0]
 *       [--metric loss|entropy] [--t SENSITIVE:T[:equal|hierarchical]]
 *       [--local N --out RELEASE.csv]
 *
 * entropy: ARX's non-uniform entropy, Metric.createEntropyMetric() (the
 * non-monotonic variant, generalization and suppression weighted equally,
 * the columns summed). hierarchical t-closeness takes the sensitive
 * column's hierarchy from the hierarchies folder, as the others. --local
 * N: ARX's local recoding (optimizeIterativeFast with 1/N of the records
 * per step, after the search with the suppression limit given), the
 * release written to --out for the caller to score.
 */
public class ArxModels {
    private static final Map<String, String> opts = new HashMap<>();

    private static String opt(String name, String dflt) {
        String v = opts.get(name);
        if (v == null && dflt == null)
            throw new IllegalArgumentException("missing --" + name);
        return v != null ? v : dflt;
    }

    private static Hierarchy hierarchy(File dir, String attr) throws Exception {
        File f = new File(dir, attr + ".csv");
        if (!f.exists()) {
            File[] m = dir.listFiles((d, n) -> n.endsWith("_hierarchy_" + attr + ".csv"));
            if (m == null || m.length != 1)
                throw new IllegalArgumentException("no hierarchy for " + attr);
            f = m[0];
        }
        return Hierarchy.create(f, StandardCharsets.UTF_8, ';');
    }

    public static void main(String[] args) throws Exception {
        for (int i = 0; i + 1 < args.length; i += 2)
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        File hdir = new File(opt("hierarchies", null));
        List<String> qis = Arrays.asList(opt("qi", null).split(","));
        int k = Integer.parseInt(opt("k", null));
        double supp = Double.parseDouble(opt("suppression", "1.0"));
        String metric = opt("metric", "loss");
        String[] t = opt("t", "").isEmpty() ? null : opt("t", "").split(":");

        Data data = Data.create(new File(opt("data", null)), StandardCharsets.UTF_8, ';');
        DataHandle in = data.getHandle();
        for (int c = 0; c < in.getNumColumns(); c++) {
            String a = in.getAttributeName(c);
            if (qis.contains(a))
                data.getDefinition().setAttributeType(a, hierarchy(hdir, a));
            else if (t != null && a.equals(t[0]))
                data.getDefinition().setAttributeType(a, AttributeType.SENSITIVE_ATTRIBUTE);
            else
                data.getDefinition().setAttributeType(a, AttributeType.INSENSITIVE_ATTRIBUTE);
        }
        ARXConfiguration config = ARXConfiguration.create();
        config.addPrivacyModel(new KAnonymity(k));
        if (t != null) {
            double tv = Double.parseDouble(t[1]);
            if (t.length > 2 && t[2].equals("hierarchical"))
                config.addPrivacyModel(new HierarchicalDistanceTCloseness(t[0], tv, hierarchy(hdir, t[0])));
            else
                config.addPrivacyModel(new EqualDistanceTCloseness(t[0], tv));
        }
        config.setSuppressionLimit(supp);
        if (metric.equals("entropy"))
            config.setQualityModel(Metric.createEntropyMetric());
        else
            config.setQualityModel(Metric.createPrecomputedLossMetric(1.0d, 0.5d,
                AggregateFunction.GEOMETRIC_MEAN));
        ARXResult result = new ARXAnonymizer().anonymize(data, config);
        DataHandle out = result.getOutput();
        if (out == null) {
            System.out.printf("arx-models: metric=%s k=%d t=%s suppression=%s qis=%d no solution%n",
                metric, k, opt("t", "-"), supp, qis.size());
            return;
        }
        int local = Integer.parseInt(opt("local", "0"));
        if (local > 0)
            result.optimizeIterativeFast(out, 1d / local);
        if (opts.containsKey("out"))
            out.save(new File(opt("out", null)), ';');
        int suppressed = 0;
        for (int i = 0; i < out.getNumRows(); i++)
            if (out.isOutlier(i))
                suppressed++;
        ARXNode best = result.getGlobalOptimum();
        System.out.printf("arx-models: metric=%s%s k=%d t=%s suppression=%s qis=%d optimum=%s score=%s suppressed=%d%n",
            metric, local > 0 ? " local=" + local : "", k, opt("t", "-"), supp, qis.size(),
            Arrays.toString(best.getTransformation()).replace(" ", ""),
            best.getHighestScore().toString(), suppressed);
    }
}
