package compat;

import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Fetches a topic's route from the NameServer (GET_ROUTEINFO_BY_TOPIC, code 105) through
 * DefaultMQAdminExt.examineTopicRouteInfo and prints it as one line of JSON, normalised
 * (brokers, addresses and queue datas sorted) so that outputs can be compared textually:
 *
 *   {"topic":"T","orderTopicConf":null,
 *    "brokerDatas":[{"cluster":"C","brokerName":"b","brokerAddrs":{"0":"127.0.0.1:10911"}}],
 *    "queueDatas":[{"brokerName":"b","readQueueNums":8,"writeQueueNums":8,"perm":6,"topicSysFlag":0}]}
 *
 *   RouteDump <namesrvAddr> <topic>
 *
 * Exit 0 on success; on a NameServer error prints {"topic":..,"error":..,"code":n} and exits 3;
 * other failures exit 1. Source compiles against rocketmq-tools 4.9.x and 5.x: the route
 * classes moved package between them, so they are only reached through `var` and reflection.
 */
public final class RouteDump {
    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: RouteDump <namesrvAddr> <topic>");
            System.exit(2);
        }
        String topic = args[1];
        // -Dcompat.accessKey/-Dcompat.secretKey: sign with AclClientRPCHook (see Credentials)
        var hook = Credentials.hook();
        DefaultMQAdminExt admin = hook == null ? new DefaultMQAdminExt() : new DefaultMQAdminExt(hook);
        admin.setNamesrvAddr(args[0]);
        admin.setInstanceName("compat-" + ProcessHandle.current().pid());
        int rc = 1;
        try {
            admin.start();
            RemotingVersion.apply();
            var route = admin.examineTopicRouteInfo(topic);
            System.out.println(toJson(topic, route));
            rc = 0;
        } catch (MQClientException e) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("topic", Json.str(topic));
            m.put("error", Json.str(String.valueOf(e.getErrorMessage())));
            m.put("code", Integer.toString(e.getResponseCode()));
            System.out.println(Json.obj(m));
            rc = e.getResponseCode() > 0 ? 3 : 1;
        } catch (Exception e) {
            System.err.println("route query failed: " + e);
            e.printStackTrace();
        } finally {
            System.out.flush();
        }
        // No admin.shutdown(): it costs ~3 s (the remoting client's event thread polls with a
        // 3 s timeout) and a one-shot query has nothing to flush; the NameServer just sees the
        // connection close, as it does for crashed clients.
        System.exit(rc);
    }

    static String toJson(String topic, Object route) throws Exception {
        Object r = route;
        Map<String, String> out = new LinkedHashMap<>();
        out.put("topic", Json.str(topic));
        out.put("orderTopicConf", Json.str((String) call(r, "getOrderTopicConf")));

        TreeMap<String, String> brokers = new TreeMap<>();
        for (Object bd : (List<?>) call(r, "getBrokerDatas")) {
            Map<String, String> b = new LinkedHashMap<>();
            String name = (String) call(bd, "getBrokerName");
            b.put("cluster", Json.str((String) call(bd, "getCluster")));
            b.put("brokerName", Json.str(name));
            TreeMap<Long, String> addrs = new TreeMap<>();
            Map<?, ?> raw = (Map<?, ?>) call(bd, "getBrokerAddrs");
            if (raw != null) {
                for (Map.Entry<?, ?> e : raw.entrySet()) {
                    addrs.put(((Number) e.getKey()).longValue(), (String) e.getValue());
                }
            }
            Map<String, String> a = new LinkedHashMap<>();
            for (Map.Entry<Long, String> e : addrs.entrySet()) {
                a.put(Long.toString(e.getKey()), Json.str(e.getValue()));
            }
            b.put("brokerAddrs", Json.obj(a));
            brokers.put(name + "\u0000" + brokers.size(), Json.obj(b));
        }
        out.put("brokerDatas", Json.arr(brokers.values()));

        TreeMap<String, String> queues = new TreeMap<>();
        for (Object qd : (List<?>) call(r, "getQueueDatas")) {
            Map<String, String> q = new LinkedHashMap<>();
            String name = (String) call(qd, "getBrokerName");
            q.put("brokerName", Json.str(name));
            q.put("readQueueNums", String.valueOf(call(qd, "getReadQueueNums")));
            q.put("writeQueueNums", String.valueOf(call(qd, "getWriteQueueNums")));
            q.put("perm", String.valueOf(call(qd, "getPerm")));
            // 4.9.x names it topicSynFlag, 5.x topicSysFlag.
            Object flag = hasMethod(qd, "getTopicSysFlag") ? call(qd, "getTopicSysFlag") : call(qd, "getTopicSynFlag");
            q.put("topicSysFlag", String.valueOf(flag));
            queues.put(name + "\u0000" + queues.size(), Json.obj(q));
        }
        out.put("queueDatas", Json.arr(queues.values()));
        return Json.obj(out);
    }

    static boolean hasMethod(Object o, String name) {
        for (Method m : o.getClass().getMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() == 0) {
                return true;
            }
        }
        return false;
    }

    static Object call(Object o, String name) throws Exception {
        return o.getClass().getMethod(name).invoke(o);
    }
}
