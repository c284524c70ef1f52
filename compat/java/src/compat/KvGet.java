package compat;

import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads KV config from the NameServer (mqadmin has no get command for it).
 *
 *   KvGet <namesrvAddr> <namespace> <key>   GET_KV_CONFIG (101): prints {"namespace":..,"key":..,"value":..}
 *   KvGet <namesrvAddr> <namespace>         GET_KVLIST_BY_NAMESPACE (219): prints {"namespace":..,"table":{..}}
 *
 * On a NameServer error prints {"namespace":..,"error":..,"code":n} and exits 3 (e.g. code 22
 * QUERY_NOT_FOUND for a missing key/namespace); other failures exit 1.
 */
public final class KvGet {
    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: KvGet <namesrvAddr> <namespace> [key]");
            System.exit(2);
        }
        String ns = args[1];
        String key = args.length > 2 ? args[2] : null;
        // -Dcompat.accessKey/-Dcompat.secretKey: sign with AclClientRPCHook (see Credentials)
        var hook = Credentials.hook();
        DefaultMQAdminExt admin = hook == null ? new DefaultMQAdminExt() : new DefaultMQAdminExt(hook);
        admin.setNamesrvAddr(args[0]);
        admin.setInstanceName("compat-" + ProcessHandle.current().pid());
        Map<String, String> out = new LinkedHashMap<>();
        out.put("namespace", Json.str(ns));
        int rc = 1;
        try {
            admin.start();
            if (key != null) {
                out.put("key", Json.str(key));
                out.put("value", Json.str(admin.getKVConfig(ns, key)));
            } else {
                var table = admin.getKVListByNamespace(ns);
                Map<String, String> t = new TreeMap<>();
                if (table != null && table.getTable() != null) {
                    for (Map.Entry<String, String> e : table.getTable().entrySet()) {
                        t.put(e.getKey(), Json.str(e.getValue()));
                    }
                }
                out.put("table", Json.obj(t));
            }
            System.out.println(Json.obj(out));
            rc = 0;
        } catch (MQClientException e) {
            out.put("error", Json.str(String.valueOf(e.getErrorMessage())));
            out.put("code", Integer.toString(e.getResponseCode()));
            System.out.println(Json.obj(out));
            rc = e.getResponseCode() > 0 ? 3 : 1;
        } catch (Exception e) {
            System.err.println("kv query failed: " + e);
            e.printStackTrace();
        } finally {
            System.out.flush();
        }
        // No admin.shutdown(): it costs ~3 s (the remoting client's event thread polls with a
        // 3 s timeout) and a one-shot query has nothing to flush; the NameServer just sees the
        // connection close, as it does for crashed clients.
        System.exit(rc);
    }
}
