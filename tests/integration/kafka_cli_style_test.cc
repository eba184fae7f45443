// Copyright streamml authors. Licensed under the Apache License 2.0.
//
// The CLI as people who know kcat expect it (issue 19): kcat's -t/-p/-o in
// consume, errors that all start with "streamml: error:", usage lines that
// say "streamml", one version string, and help pages that end with examples
// which parse.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "support/test_kafka.h"

namespace streamml::kafka {
namespace {

using streamml::testing::CommandResult;
using streamml::testing::shell_quote;
using streamml::testing::TestKafka;

constexpr int kExitUsage = 2;

std::string cli(const std::string& args) { return shell_quote(streamml::testing::cli_path()) + " " + args; }
std::string brokers() { return "-b " + shell_quote(TestKafka::get().bootstrap()); }
CommandResult run(const std::string& args) { return streamml::testing::run_command_capture(cli(args)); }

TEST(KafkaCliStyleTest, ConsumeTakesKcatTopicPartitionAndOffset) {
  const std::string topic = TestKafka::get().create_topic("cli-kcat", 2);
  streamml::testing::produce_to(topic, 0, {"a", "b", "c", "d", "e"});
  streamml::testing::produce_to(topic, 1, {"x", "y"});
  auto consume = [&](const std::string& flags) {
    CommandResult r = run("consume " + brokers() + " -e -f '%p:%o:%s\\n' " + flags);
    EXPECT_EQ(r.exit_code, 0) << flags << ": " << r.err;
    return r.out;
  };
  EXPECT_EQ(consume("-t " + topic + " -p 0"), "0:0:a\n0:1:b\n0:2:c\n0:3:d\n0:4:e\n");
  EXPECT_EQ(consume("-t " + topic + " -p 0 -o 3"), "0:3:d\n0:4:e\n");
  EXPECT_EQ(consume("-t " + topic + " -p 0 -o beginning -c 2"), "0:0:a\n0:1:b\n");
  EXPECT_EQ(consume("-t " + topic + " -p 0 -o -2"), "0:3:d\n0:4:e\n");  // the last 2, as kcat
  EXPECT_EQ(consume("-t " + topic + " -p 0 -o end"), "");
  // Without -p: every partition; -o -1 the last record of each.
  std::string both = consume("-t " + topic + " -o -1");
  EXPECT_NE(both.find("0:4:e\n"), std::string::npos) << both;
  EXPECT_NE(both.find("1:1:y\n"), std::string::npos) << both;
  EXPECT_EQ(both.size(), std::string("0:4:e\n1:1:y\n").size()) << both;
  // Beside a spec (partitions are read side by side: any order).
  const std::string mixed = consume("--topic " + topic + " --partition 1 --offset 1 " + topic + ":0:0:0");
  EXPECT_NE(mixed.find("1:1:y\n"), std::string::npos) << mixed;
  EXPECT_NE(mixed.find("0:0:a\n"), std::string::npos) << mixed;
  EXPECT_EQ(mixed.size(), std::string("1:1:y\n0:0:a\n").size()) << mixed;

  const std::vector<std::string> bad_flags = {"-p 0", "-o 2", "-t " + topic + " -o soon", "-t " + topic + " -o stored",
                                             ""};
  for (const std::string& bad : bad_flags) {
    CommandResult r = run("consume " + brokers() + " -e " + bad);
    EXPECT_EQ(r.exit_code, kExitUsage) << bad << ": " << r.err;
    EXPECT_EQ(r.err.rfind("streamml: error: ", 0), 0u) << bad << ": " << r.err;
  }
}

TEST(KafkaCliStyleTest, UsageErrorsCarryThePrefixAndNameTheCommand) {
  CommandResult unknown = run("consume -b localhost:1 --no-such-flag x");
  EXPECT_EQ(unknown.exit_code, kExitUsage);
  EXPECT_EQ(unknown.err.rfind("streamml: error: ", 0), 0u) << unknown.err;
  EXPECT_NE(unknown.err.find("--no-such-flag"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("Run 'streamml consume --help'"), std::string::npos) << unknown.err;

  CommandResult bad_value = run("train --epochs many");
  EXPECT_EQ(bad_value.exit_code, kExitUsage);
  EXPECT_EQ(bad_value.err.rfind("streamml: error: ", 0), 0u) << bad_value.err;

  CommandResult none = run("");
  EXPECT_EQ(none.exit_code, kExitUsage);
  EXPECT_EQ(none.err.rfind("streamml: error: ", 0), 0u) << none.err;
  EXPECT_NE(none.err.find("Run 'streamml --help'"), std::string::npos) << none.err;
}

TEST(KafkaCliStyleTest, UsageShowsStreammlNotThePath) {
  const std::string path = streamml::testing::cli_path();
  for (const std::string command : {"", "consume", "topics describe", "train"}) {
    CommandResult help = run(command + " --help");
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_NE(help.out.find("Usage: streamml" + (command.empty() ? "" : " " + command)), std::string::npos)
        << help.out;
    EXPECT_EQ(help.out.find(path), std::string::npos) << help.out;
  }
}

TEST(KafkaCliStyleTest, VersionFlagAndCommandPrintTheSameText) {
  CommandResult flag = run("--version");
  CommandResult command = run("version");
  EXPECT_EQ(flag.exit_code, 0);
  EXPECT_EQ(command.exit_code, 0);
  EXPECT_EQ(flag.out, command.out);
  EXPECT_EQ(command.out.rfind("streamml ", 0), 0u) << command.out;
  EXPECT_NE(command.out.find("librdkafka"), std::string::npos) << command.out;
  // The allocator serving malloc(): jemalloc unless the build left it out
  // (STREAMML_JEMALLOC, off under the sanitizers).
  EXPECT_NE(command.out.find(STREAMML_CLI_JEMALLOC ? ", jemalloc 5." : ", glibc 2."), std::string::npos)
      << command.out;
}

// The example lines at the end of a help page ("  streamml ...").
std::vector<std::string> examples_of(const std::string& help) {
  std::vector<std::string> out;
  const size_t at = help.find("\nExamples:\n");
  if (at == std::string::npos) return out;
  std::istringstream in(help.substr(at + 11));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("  streamml ", 0) == 0) out.push_back(line.substr(11));
  }
  return out;
}

// One help page per test: each starts the CLI a few times (LibTorch's
// start-up costs a second or more on a busy machine).
class HelpExamplesTest : public ::testing::TestWithParam<const char*> {};

TEST_P(HelpExamplesTest, HelpEndsWithExamplesThatParse) {
  const std::string page = GetParam();
  CommandResult help = run(page + " --help");
  ASSERT_EQ(help.exit_code, 0) << page;
  const std::vector<std::string> examples = examples_of(help.out);
  EXPECT_GE(examples.size(), 2u) << "'" << page << " --help' has no examples:\n" << help.out;
  EXPECT_LE(examples.size(), 3u) << page;
  // The examples are the end of the page.
  const size_t at = help.out.rfind("\nExamples:\n");
  ASSERT_NE(at, std::string::npos) << help.out;
  const std::string tail = help.out.substr(at);
  EXPECT_EQ(tail.find("\n\n", 1), std::string::npos) << page << ": text after the examples:\n" << tail;
  for (const std::string& example : examples) {
    // Parsed, not run: STREAMML_PARSE_ONLY=1 exits after the command line was accepted.
    CommandResult parsed = streamml::testing::run_command_capture("STREAMML_PARSE_ONLY=1 " + cli(example));
    EXPECT_EQ(parsed.exit_code, 0) << "'" << page << " --help' example does not parse: streamml " << example << "\n"
                                   << parsed.err;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryPage, HelpExamplesTest,
                         ::testing::Values("", "broker", "topics", "topics list", "topics create", "topics describe",
                                           "produce", "generate", "consume", "train", "evaluate", "predict", "serve",
                                           "demo", "export", "import", "version"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = *info.param == '\0' ? "main" : info.param;
                           for (char& c : name) {
                             if (c == ' ') c = '_';
                           }
                           return name;
                         });

// A malformed example must fail the parse check: the check is real.
TEST(KafkaCliStyleTest, ParseOnlyStillRejectsABadCommandLine) {
  CommandResult bad = streamml::testing::run_command_capture("STREAMML_PARSE_ONLY=1 " + cli("train --epochs many"));
  EXPECT_EQ(bad.exit_code, kExitUsage) << bad.err;
}

}  // namespace
}  // namespace streamml::kafka
