// Suite files run in dependency order, one at a time: the smoke suite (is the cluster real?),
// then AC1 → AC4 (each AC's "Given" is the previous AC's "Then"), then beyond-story and
// live-target suites, then the fault catalog.
import { BaseSequencer, type TestSpecification } from "vitest/node";

function rank(moduleId: string): string {
  const file = moduleId.split("/").pop() ?? moduleId;
  if (moduleId.includes("/smoke/")) return `0-${file}`;
  // The fault catalog breaks the cluster (and mends it): after everything else.
  if (moduleId.includes("/faults/")) return `3-${file}`;
  const ac = /^ac(\d+)-/.exec(file);
  if (ac) return `1-${ac[1]!.padStart(3, "0")}`;
  return `2-${file}`;
}

export default class CriteriaOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => rank(a.moduleId).localeCompare(rank(b.moduleId)));
  }
  override async shard(files: TestSpecification[]): Promise<TestSpecification[]> {
    return files;
  }
}
